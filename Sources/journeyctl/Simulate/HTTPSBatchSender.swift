import AsyncHTTPClient
import Foundation
import Histogram
import JourneyCore
import JourneySimulation
import JourneyStorage
import NIOCore
import NIOSSL
import Synchronization

/// Sends a simulated corpus to journeyd's HTTPS tracking API as `POST /v1/batch` requests, one
/// source per request (its write key as the Basic username), over `connections` HTTP/1.1
/// keep-alive connections: each worker task posts one batch after the other, in arrival order,
/// optionally paced to a target rate. A 429 or 503 answer, or a dropped connection, is retried
/// (after `Retry-After`) up to five times, so the daemon's back-pressure loses nothing.
///
/// Bodies are built (and compressed) before the clock starts; the workers share them read-only.
struct HTTPSBatchSender: Sendable {
    struct Batch: Sendable {
        var source: SimulatedSource
        var body: ByteBuffer
        var events: Int
        var jsonBytes: Int
    }

    let address: String
    let caFile: String?
    let keyPrefix: String
    let connections: Int
    /// Events per second over all connections; nil: as fast as answers come.
    let rate: Double?
    let gzip: Bool

    static let maxAttempts = 5

    /// The corpus's deliveries as batch bodies of at most `batchSize` events of one source, in the
    /// order their last event arrives; every `sentAt` moved by `shift` ms (`SentAtStamp`).
    static func batches(_ corpus: SimulatedCorpus, batchSize: Int, shift: Int64, gzip: Bool) throws(SimulationError) -> [Batch] {
        var pending: [SimulatedSource: [[UInt8]]] = [:]
        var plain: [(SimulatedSource, [UInt8], Int)] = []
        func close(_ source: SimulatedSource) {
            guard let lines = pending[source], !lines.isEmpty else { return }
            var body: [UInt8] = Array("{\"batch\":[".utf8)
            for (index, line) in lines.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                body.append(contentsOf: line)
            }
            body.append(contentsOf: Array("]}".utf8))
            plain.append((source, body, lines.count))
            pending[source] = []
        }
        for index in corpus.deliveries {
            let event = corpus.events[index]
            var line = event.json
            try SentAtStamp.shift(&line, by: shift)
            pending[event.source, default: []].append(line)
            if pending[event.source]?.count == batchSize { close(event.source) }
        }
        for source in SimulatedSource.allCases { close(source) }
        guard gzip else {
            return plain.map { Batch(source: $0.0, body: ByteBuffer(bytes: $0.1), events: $0.2, jsonBytes: $0.1.count) }
        }
        let bodies = plain.map(\.1)
        let compressed = Mutex<[Int: [UInt8]]>([:])
        DispatchQueue.concurrentPerform(iterations: bodies.count) { index in
            let body = Gzip.compress(bodies[index], level: 1)
            compressed.withLock { $0[index] = body }
        }
        return compressed.withLock { bodies in
            plain.indices.map { Batch(source: plain[$0].0, body: ByteBuffer(bytes: bodies[$0] ?? []), events: plain[$0].2, jsonBytes: plain[$0].1.count) }
        }
    }

    func run(_ batches: [Batch], progress: SendProgress) async throws -> SendResult {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.trustRoots = .file(caFile) }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = .http1Only
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        configuration.connectionPool = .init(idleTimeout: .seconds(600), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        // When each batch is due at the target rate: after the events before it.
        var eventsBefore: [Int] = []
        eventsBefore.reserveCapacity(batches.count)
        var total = 0
        for batch in batches {
            eventsBefore.append(total)
            total += batch.events
        }
        let dueEvents = eventsBefore
        let cursor = BatchCursor()
        let started = ContinuousClock.now
        do {
            let results = try await withThrowingTaskGroup(of: SendResult.self) { group in
                for _ in 0..<connections {
                    group.addTask {
                        var result = SendResult(duplicates: 0)
                        while true {
                            let index = cursor.next.wrappingAdd(1, ordering: .relaxed).oldValue
                            guard index < batches.count else { break }
                            if let rate {
                                let due = started + .nanoseconds(Int64(Double(dueEvents[index]) / rate * 1e9))
                                if due > .now { try await Task.sleep(until: due) }
                            }
                            try await send(batches[index], client: client, into: &result, progress: progress)
                        }
                        return result
                    }
                }
                var merged = SendResult(duplicates: 0)
                for try await part in group { merged.add(part) }
                return merged
            }
            try await client.shutdown()
            var result = results
            result.seconds = started.duration(to: .now).inSeconds
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func send(_ batch: Batch, client: HTTPClient, into result: inout SendResult, progress: SendProgress) async throws {
        var request = HTTPClientRequest(url: "https://\(address)/v1/batch")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(batch.source.writeKey(prefix: keyPrefix)):".utf8).base64EncodedString())
        if gzip { request.headers.add(name: "Content-Encoding", value: "gzip") }
        request.body = .bytes(batch.body)
        result.events += batch.events
        result.jsonBytes += batch.jsonBytes
        var problem = ""
        for attempt in 1...Self.maxAttempts {
            if attempt > 1 { result.retries += 1 }
            let start = ContinuousClock.now
            let status: UInt
            let reply: ByteBuffer
            var retryAfter: Duration = .milliseconds(200)
            do {
                let response = try await client.execute(request, timeout: .seconds(120))
                reply = try await response.body.collect(upTo: 4 << 20)
                status = response.status.code
                if let seconds = response.headers.first(name: "Retry-After").flatMap(Int.init) { retryAfter = .seconds(seconds) }
            } catch {
                problem = "request failed: \(error)"
                try await Task.sleep(for: retryAfter)
                continue
            }
            LatencySummary.record(nanoseconds: UInt64(start.duration(to: .now).wholeNanoseconds), in: &result.latency)
            if status == 200, let root = try? JSONDocument(bytes: Array(buffer: reply)).root {
                let rejected = root["rejected"]?.elements.count ?? 0
                result.accepted += root["accepted"]?.int ?? 0
                result.duplicates = (result.duplicates ?? 0) + (root["duplicates"]?.int ?? 0)
                result.rejected += rejected
                if rejected > 0, result.firstError == nil {
                    result.firstError = "\(batch.source.name): \(String(buffer: reply).prefix(300))"
                }
                progress.settled.add(batch.events, ordering: .relaxed)
                progress.errors.add(rejected, ordering: .relaxed)
                return
            }
            problem = "HTTP \(status): \(String(buffer: reply).prefix(300))"
            guard status == 429 || status == 503 else { break }
            try await Task.sleep(for: retryAfter)
        }
        result.failures += 1
        progress.errors.add(batch.events, ordering: .relaxed)
        if result.firstError == nil { result.firstError = "\(batch.source.name) batch of \(batch.events) events: \(problem)" }
    }
}

/// The next batch to send, shared by the workers.
private final class BatchCursor: Sendable {
    let next = Atomic<Int>(0)
}

extension SendResult {
    /// Adds another worker's counts and latencies (the time is the caller's).
    mutating func add(_ other: SendResult) {
        events += other.events
        accepted += other.accepted
        if let theirs = other.duplicates { duplicates = (duplicates ?? 0) + theirs }
        rejected += other.rejected
        failures += other.failures
        retries += other.retries
        firstError = firstError ?? other.firstError
        jsonBytes += other.jsonBytes
        latency.add(other.latency)
    }
}
