import AsyncHTTPClient
import Foundation
import JourneyCore
import JourneyServer
import JourneySimulation
import JourneyStorage
import NIOCore
import NIOSSL
import Synchronization

/// Benchmark 4: the real `journeyd` over HTTPS. A load generator keeps `connections` HTTP/1.1
/// keep-alive connections busy, each posting `POST /v1/batch` bodies of `batchSize` generated
/// events one after the other, for a fixed time or a fixed number of requests.
///
/// Every event the daemon sees is new: plain bodies are copied from a pool of generated batches
/// and their message ids patched with the request number. gzip bodies cannot be patched after
/// compression, so they are compressed up front (one pool entry per expected request); should
/// the run outlast the pool, later requests repeat bodies and the daemon counts them as
/// duplicates (reported).
enum HTTPBenchmark {
    struct Options {
        var binary: String
        var connections: Int
        var seconds: Double
        var requests: Int?
        var batchSize: Int
        var gzip: Bool
        var templates: Int
        var gzipPool: Int
        var seed: UInt64
        var customers: LoadCustomers
        var durability: String?
        var keepFiles: Bool
    }

    /// Whose events the load sends, and from when.
    struct LoadCustomers {
        var population: Population
        /// When the first generated session starts (ms since epoch).
        var start: Int64

        /// 100,000 customers of their own, sessions from `CorpusGenerator.epoch`.
        static func standalone(seed: UInt64) -> LoadCustomers {
            LoadCustomers(population: Population(seed: seed &+ 2, count: 100_000), start: CorpusGenerator.epoch)
        }
    }

    struct Result {
        var gzip: Bool
        var connections: Int
        var requests: Int
        var accepted: Int
        var duplicates: Int
        var failed: Int
        var firstFailure: String?
        var seconds: Double
        /// Sorted, nanoseconds.
        var latencies: [UInt64]
        var wireBytes: Int
        var jsonBytes: Int
        var residentAtReady: Int?
        var residentAtEnd: Int?
        var daemonCPUSeconds: Double?
        var clientCPUSeconds: Double?
        var daemonStats: String?
        var exitStatus: Int32
        var shutdownSeconds: Double
        /// Cores used by processes other than journeyd and the load generator during the run.
        var foreignCores: Double?

        var eventsPerSecond: Double { Double(accepted) / seconds }
        var requestsPerSecond: Double { Double(requests) / seconds }

        func latency(_ quantile: Double) -> UInt64 { Percentile.of(latencies, quantile) }
    }

    /// Request bodies: templates patched per request (plain) or pre-compressed (gzip).
    struct BodyPool: Sendable {
        var templates: [[UInt8]]
        var offsets: [[Int]]
        var compressed: [[UInt8]]
        var batchSize: Int

        var averageJSONBytes: Int { templates.reduce(0) { $0 + $1.count } / max(1, templates.count) }

        /// Uncompressed size of request `k`'s body.
        func jsonBytes(_ k: Int) -> Int { templates[k % templates.count].count }

        /// The body for request number `k` (unique message ids for every k in plain mode).
        func body(_ k: Int, gzip: Bool) -> ByteBuffer {
            if gzip { return ByteBuffer(bytes: compressed[k % compressed.count]) }
            var bytes = templates[k % templates.count]
            Self.patch(&bytes, offsets: offsets[k % templates.count], request: k, batchSize: batchSize)
            return ByteBuffer(bytes: bytes)
        }

        static let hex: [UInt8] = Array("0123456789abcdef".utf8)

        /// Overwrites the first 8 hex digits of each message id with (request × batchSize + index).
        static func patch(_ bytes: inout [UInt8], offsets: [Int], request: Int, batchSize: Int) {
            bytes.withUnsafeMutableBufferPointer { buffer in
                for (index, offset) in offsets.enumerated() {
                    var value = UInt32(truncatingIfNeeded: request &* batchSize &+ index)
                    for position in stride(from: 7, through: 0, by: -1) {
                        buffer[offset + position] = hex[Int(value & 15)]
                        value >>= 4
                    }
                }
            }
        }
    }

    static func makePool(_ options: Options, log: (String) -> Void) async -> BodyPool {
        var generator = CorpusGenerator(seed: options.seed &+ 2, population: options.customers.population, start: options.customers.start)
        var templates: [[UInt8]] = []
        var offsets: [[Int]] = []
        for _ in 0..<max(1, options.templates) {
            let batch = generator.batch(events: options.batchSize)
            templates.append(batch.body)
            offsets.append(batch.messageIDOffsets)
        }
        var pool = BodyPool(templates: templates, offsets: offsets, compressed: [], batchSize: options.batchSize)
        if options.gzip {
            let count = max(1, options.gzipPool)
            log("http: compressing \(count) distinct gzip bodies …")
            let start = BenchClock.nanoseconds()
            let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
            let shared = pool
            let parts = await withTaskGroup(of: (Int, [[UInt8]]).self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var out: [[UInt8]] = []
                        for k in stride(from: worker, to: count, by: workers) {
                            var bytes = shared.templates[k % shared.templates.count]
                            BodyPool.patch(&bytes, offsets: shared.offsets[k % shared.templates.count], request: k, batchSize: shared.batchSize)
                            out.append(Gzip.compress(bytes))
                        }
                        return (worker, out)
                    }
                }
                var parts: [(Int, [[UInt8]])] = []
                for await part in group { parts.append(part) }
                return parts.sorted { $0.0 < $1.0 }.map(\.1)
            }
            var compressed: [[UInt8]] = []
            compressed.reserveCapacity(count)
            for k in 0..<count { compressed.append(parts[k % workers][k / workers]) }
            pool.compressed = compressed
            let ratio = Double(compressed.reduce(0) { $0 + $1.count }) / Double(count)
            log("http: \(count) gzip bodies in \(String(format: "%.1f", BenchClock.seconds(since: start))) s, \(Format.bytes(ratio)) each (JSON \(Format.bytes(Double(pool.averageJSONBytes))))")
        }
        return pool
    }

    /// State the load workers share: the next request number, and a flag that stops them.
    final class Shared: Sendable {
        let next = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
    }

    struct WorkerResult: Sendable {
        var latencies: [UInt64] = []
        var requests = 0
        var accepted = 0
        var duplicates = 0
        var failed = 0
        var firstFailure: String?
        var wireBytes = 0
        var jsonBytes = 0

        /// The workers' results added up, latencies sorted.
        static func merged(_ results: [WorkerResult]) -> WorkerResult {
            var total = WorkerResult()
            for result in results {
                total.latencies += result.latencies
                total.requests += result.requests
                total.accepted += result.accepted
                total.duplicates += result.duplicates
                total.failed += result.failed
                total.firstFailure = total.firstFailure ?? result.firstFailure
                total.wireBytes += result.wireBytes
                total.jsonBytes += result.jsonBytes
            }
            total.latencies.sort()
            return total
        }
    }

    static func run(_ options: Options, pool: BodyPool, log: @escaping @Sendable (String) -> Void) async throws -> Result {
        let label = options.gzip ? "http-gzip" : "http"
        let daemon = try await BenchDaemon.start(binary: options.binary, label: label, durability: options.durability, keepFiles: options.keepFiles)
        log("\(label): journeyd pid \(daemon.pid) ready on \(daemon.httpAddress)")
        let residentAtReady = ProcessMemory.residentBytes(pid: daemon.pid)

        let client = makeClient(daemon: daemon, connections: options.connections)
        let url = "https://\(daemon.httpAddress)/v1/batch"
        let shared = Shared()

        var measured: [WorkerResult] = []
        var seconds = 0.0
        var daemonCPU: Double?
        var clientCPU: Double?
        var residentAtEnd: Int?
        var stats: String?
        var foreignCores: Double?
        do {
            // Warm-up: open every connection (TLS handshakes) and touch the code paths.
            _ = try await load(
                client: client, url: url, pool: pool, gzip: options.gzip, shared: shared,
                connections: options.connections, deadline: nil, limit: options.connections * 3)
            let daemonCPUStart = ProcessStats.cpuSeconds(pid: daemon.pid)
            let clientCPUStart = ProcessStats.cpuSeconds()
            let probe = InterferenceProbe()
            let start = BenchClock.nanoseconds()
            let deadline: UInt64? = options.requests == nil ? start + UInt64(options.seconds * 1e9) : nil
            let limit = options.requests.map { shared.next.load(ordering: .relaxed) + $0 }
            log("\(label): \(options.connections) connections, \(options.requests.map { "\($0) requests" } ?? "\(options.seconds) s") …")
            measured = try await load(
                client: client, url: url, pool: pool, gzip: options.gzip, shared: shared,
                connections: options.connections, deadline: deadline, limit: limit)
            seconds = BenchClock.seconds(since: start)
            if let end = ProcessStats.cpuSeconds(pid: daemon.pid), let begin = daemonCPUStart { daemonCPU = end - begin }
            foreignCores = probe.foreignCores(excludingCPUSeconds: daemonCPU ?? 0)
            if let end = ProcessStats.cpuSeconds(), let begin = clientCPUStart { clientCPU = end - begin }
            residentAtEnd = ProcessMemory.residentBytes(pid: daemon.pid)
            stats = try? await adminStats(client: client, daemon: daemon)
        } catch {
            try? await client.shutdown()
            let stopped = await daemon.stop()
            throw BenchError("\(label) failed: \(error) (journeyd exit \(stopped.status))\n\(daemon.log.suffix(2000))")
        }
        try await client.shutdown()
        let stopped = await daemon.stop()
        log("\(label): journeyd stopped with status \(stopped.status) after \(String(format: "%.2f", stopped.seconds)) s")

        let total = WorkerResult.merged(measured)
        return Result(
            gzip: options.gzip, connections: options.connections, requests: total.requests, accepted: total.accepted,
            duplicates: total.duplicates, failed: total.failed, firstFailure: total.firstFailure, seconds: seconds,
            latencies: total.latencies, wireBytes: total.wireBytes, jsonBytes: total.jsonBytes, residentAtReady: residentAtReady, residentAtEnd: residentAtEnd,
            daemonCPUSeconds: daemonCPU, clientCPUSeconds: clientCPU, daemonStats: stats, exitStatus: stopped.status,
            shutdownSeconds: stopped.seconds, foreignCores: foreignCores)
    }

    static let authorization = "Basic " + Data("\(BenchDaemon.writeKey):".utf8).base64EncodedString()

    /// An HTTP/1.1 client trusting the daemon's CA, with room for `connections` keep-alive
    /// connections.
    static func makeClient(daemon: BenchDaemon, connections: Int) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(daemon.caCertificatePath)
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = .http1Only
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(600))
        configuration.connectionPool = .init(idleTimeout: .seconds(600), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `connections` workers, each posting one request at a time, until `deadline` (monotonic
    /// ns), until the shared request counter reaches `limit`, or until `shared.stop` is set.
    static func load(
        client: HTTPClient, url: String, pool: BodyPool, gzip: Bool, shared: Shared,
        connections: Int, deadline: UInt64?, limit: Int?
    ) async throws -> [WorkerResult] {
        try await withThrowingTaskGroup(of: WorkerResult.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var result = WorkerResult()
                    result.latencies.reserveCapacity(16_384)
                    while true {
                        if let deadline, BenchClock.nanoseconds() >= deadline { break }
                        if shared.stop.load(ordering: .relaxed) { break }
                        let k = shared.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        if let limit, k >= limit { break }
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.headers.add(name: "Authorization", value: Self.authorization)
                        if gzip { request.headers.add(name: "Content-Encoding", value: "gzip") }
                        let body = pool.body(k, gzip: gzip)
                        result.wireBytes += body.readableBytes
                        result.jsonBytes += pool.jsonBytes(k)
                        request.body = .bytes(body)
                        let start = BenchClock.nanoseconds()
                        let response = try await client.execute(request, timeout: .seconds(60))
                        let reply = try await response.body.collect(upTo: 1 << 20)
                        result.latencies.append(BenchClock.nanoseconds() - start)
                        result.requests += 1
                        if response.status.code == 200, let root = try? JSONDocument(bytes: Array(buffer: reply)).root {
                            result.accepted += root["accepted"]?.int ?? 0
                            result.duplicates += root["duplicates"]?.int ?? 0
                        } else {
                            result.failed += 1
                            if result.firstFailure == nil {
                                result.firstFailure = "HTTP \(response.status.code): \(String(buffer: reply).prefix(300))"
                            }
                        }
                    }
                    return result
                }
            }
            var results: [WorkerResult] = []
            for try await result in group { results.append(result) }
            return results
        }
    }

    /// The admin API's `/v1/stats` as returned (compact JSON), for the notes.
    static func adminStats(client: HTTPClient, daemon: BenchDaemon) async throws -> String {
        var request = HTTPClientRequest(url: "http://\(daemon.adminAddress)/v1/stats")
        request.headers.add(name: "Authorization", value: "Bearer \(BenchDaemon.adminToken)")
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return String(buffer: body)
    }
}
