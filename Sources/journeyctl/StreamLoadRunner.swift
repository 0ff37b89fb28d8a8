import NIOCore
import NIOSSL

/// Runs every connection of one `journeyctl load` (or `journeyctl simulate --stream`) at the same
/// time, each as a child task over its own lines, and times the whole from the first connect to
/// the last connection's finish. The first connection to fail cancels (and so closes) the others.
enum StreamLoadRunner {
    struct Result: Sendable {
        var seconds: Double
        var connections: [StreamConnectionResult]
    }

    /// `journeyctl load`: the corpus shared out among `connections` (`StreamCorpus.partitions`),
    /// each connection sending its lines `repeatCount` times.
    static func run(
        corpus: StreamCorpus, connections: Int, interleave: Int?, repeatCount: Int, target: StreamTarget, tls: NIOSSLContext,
        settings: StreamLoadSettings, group: any EventLoopGroup
    ) async throws -> Result {
        let connections = corpus.partitions(connections, runLines: interleave).enumerated().map { index, lines in
            StreamLoadConnection(
                number: index + 1, target: target, tls: tls, corpus: corpus,
                work: Array(Array(repeating: lines, count: repeatCount).joined()), settings: settings)
        }
        return try await run(connections, group: group)
    }

    static func run(_ connections: [StreamLoadConnection], group: any EventLoopGroup) async throws -> Result {
        let startedAt = NIODeadline.now().uptimeNanoseconds
        let results = try await withThrowingTaskGroup(of: StreamConnectionResult.self) { tasks in
            for connection in connections {
                tasks.addTask { try await connection.run(on: group) }
            }
            var results: [StreamConnectionResult] = []
            for try await result in tasks { results.append(result) }
            return results
        }
        let finishedAt = results.map(\.finishedAt).max() ?? startedAt
        return Result(seconds: Double(finishedAt &- startedAt) / 1e9, connections: results)
    }
}
