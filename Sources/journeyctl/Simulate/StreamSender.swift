import Histogram
import JourneySimulation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends a simulated corpus over journeyd's TLS NDJSON stream. A stream connection speaks for one
/// source (it sends `{"writeKey":…}` first), so each source gets its share of the connections, at
/// least one, and its deliveries are dealt out to them line by line in arrival order. Every
/// connection is a `StreamLoadConnection` (the `journeyctl load` client: ack window, resending
/// after a dropped connection), optionally paced so that all of them finish together at the
/// target rate. Latency is per write: from its flush to the ack covering its last line.
struct StreamSender: Sendable {
    /// One connection's lines: all from one source.
    struct Lane: Sendable {
        var source: SimulatedSource
        var corpus: StreamCorpus
    }

    let target: StreamTarget
    let tls: NIOSSLContext
    let keyPrefix: String
    /// Events per second over all connections; nil: as fast as acks allow.
    let rate: Double?
    let windowBytes: Int
    let chunkBytes: Int

    /// Deals each source's deliveries (every `sentAt` moved by `shift` ms) out to its connections.
    static func lanes(_ corpus: SimulatedCorpus, connections: Int, shift: Int64) throws(SimulationError) -> [Lane] {
        let counts = corpus.deliveryCounts
        var lanes: [Lane] = []
        for source in SimulatedSource.allCases {
            let deliveries = corpus.deliveries(of: source)
            guard !deliveries.isEmpty else { continue }
            let share = Double(counts[source] ?? 0) / Double(max(1, corpus.deliveries.count))
            let count = min(deliveries.count, max(1, Int((Double(connections) * share).rounded())))
            var builders = [StreamCorpusBuilder](repeating: StreamCorpusBuilder(), count: count)
            for (position, index) in deliveries.enumerated() {
                var line = corpus.events[index].json
                try SentAtStamp.shift(&line, by: shift)
                line.append(UInt8(ascii: "\n"))
                line.withUnsafeBytes { builders[position % count].append($0) }
            }
            lanes += builders.indices.map { Lane(source: source, corpus: builders[$0].finish()) }
        }
        return lanes
    }

    func run(_ lanes: [Lane], progress: SendProgress) async throws -> SendResult {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let total = lanes.reduce(0) { $0 + $1.corpus.lineCount }
        let connections = lanes.enumerated().map { index, lane in
            let settings = StreamLoadSettings(
                waitsForAcks: true, windowBytes: windowBytes, chunkBytes: chunkBytes,
                authLine: StreamLoadCommand.authLine(writeKey: lane.source.writeKey(prefix: keyPrefix)),
                stallTimeout: .seconds(30), maxReconnects: 3,
                linesPerSecond: rate.map { $0 * Double(lane.corpus.lineCount) / Double(max(1, total)) }, progress: progress)
            return StreamLoadConnection(
                number: index + 1, target: target, tls: tls, corpus: lane.corpus, work: [0..<lane.corpus.lineCount], settings: settings)
        }
        let outcome: Result<StreamLoadRunner.Result, any Error>
        do {
            outcome = .success(try await StreamLoadRunner.run(connections, group: group))
        } catch {
            outcome = .failure(error)
        }
        try await group.shutdownGracefully()
        let run = try outcome.get()
        var result = SendResult()
        for connection in run.connections {
            result.events += connection.lines
            result.accepted += connection.settled - connection.rejectedLines
            result.rejected += connection.rejectedLines
            result.retries += connection.reconnects
            result.jsonBytes += connection.bytes
            result.firstError = result.firstError ?? connection.firstRejection
            for latency in connection.ackLatencies { LatencySummary.record(nanoseconds: latency, in: &result.latency) }
        }
        result.seconds = run.seconds
        return result
    }
}
