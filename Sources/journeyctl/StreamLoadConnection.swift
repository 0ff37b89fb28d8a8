import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Settings shared by every connection of one `journeyctl load` run.
struct StreamLoadSettings: Sendable {
    var waitsForAcks: Bool
    var windowBytes: Int
    var chunkBytes: Int
    var authLine: ByteBuffer?
    var stallTimeout: TimeAmount
    var maxReconnects: Int
    /// Lines per second each connection may write at most (nil: as fast as acks allow).
    var linesPerSecond: Double? = nil
    /// Counts settled and rejected lines as acks arrive, for a live progress display.
    var progress: SendProgress? = nil
}

/// What one connection achieved over all its attempts.
struct StreamConnectionResult: Sendable {
    var lines: Int
    var bytes: Int
    var settled = 0
    var rejectedLines = 0
    var firstRejection: String?
    var reconnects = 0
    var ackLatencies: [UInt64] = []
    var finishedAt: UInt64 = 0
}

/// One stream connection of `journeyctl load`: connects, runs a `StreamLoadHandler` over its
/// lines and, when the server drops the connection after settling some of them, reconnects and
/// sends exactly the lines past the last ack (up to `maxReconnects` times; never in `--no-acks`
/// mode, where nothing tells which lines arrived).
///
/// A value shared with the task that runs it; the channel work happens on one event loop of the
/// group per attempt. Cancelling the task closes the open connection.
struct StreamLoadConnection: Sendable {
    let number: Int
    let target: StreamTarget
    let tls: NIOSSLContext
    let corpus: StreamCorpus
    /// The corpus lines this connection sends, in order (the same range several times with --repeat).
    let work: [Range<Int>]
    let settings: StreamLoadSettings

    func run(on group: any EventLoopGroup) async throws -> StreamConnectionResult {
        var result = StreamConnectionResult(lines: work.lineCount, bytes: work.reduce(0) { $0 + corpus.byteCount(of: $1) })
        var remaining = work
        while true {
            let plan = StreamAttemptPlan(
                chunks: corpus.chunks(of: remaining, maxBytes: settings.chunkBytes), lineCount: remaining.lineCount,
                authLine: settings.authLine, waitsForAcks: settings.waitsForAcks, windowBytes: settings.windowBytes,
                stallTimeout: settings.stallTimeout, linesPerSecond: settings.linesPerSecond, progress: settings.progress)
            let outcome = try await attempt(plan, on: group.next())
            try Task.checkCancellation()
            result.rejectedLines += outcome.rejectedLines
            result.firstRejection = result.firstRejection ?? outcome.firstRejection
            result.ackLatencies += outcome.ackLatencies
            if outcome.settledAll, let finishedAt = outcome.finishedAt {
                result.settled += plan.lineCount
                result.finishedAt = finishedAt
                return result
            }
            result.settled += outcome.linesAcked
            guard outcome.handshakeCompleted else {
                throw StreamLoadError.handshakeFailed(connection: number, target: target.description, reason: outcome.endReason)
            }
            if outcome.violatedProtocol {
                throw StreamLoadError.protocolViolation(connection: number, reason: outcome.endReason)
            }
            guard settings.waitsForAcks, outcome.linesAcked > 0, result.reconnects < settings.maxReconnects else {
                throw StreamLoadError.notSettled(
                    connection: number, settled: result.settled, of: result.lines, reason: outcome.endReason)
            }
            remaining = remaining.droppingLines(outcome.linesAcked)
            result.reconnects += 1
            FileHandle.standardError.write(Data(
                "journeyctl: connection \(number) lost after \(TextFormat.number(result.settled)) of \(TextFormat.number(result.lines)) lines settled (\(outcome.endReason)); reconnecting\n".utf8))
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// One connection: connect, stream until the handler reports how it ended.
    private func attempt(_ plan: StreamAttemptPlan, on eventLoop: any EventLoop) async throws -> StreamAttemptOutcome {
        let outcome = eventLoop.makePromise(of: StreamAttemptOutcome.self)
        let tls = self.tls
        let serverHostname = target.serverHostname
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: settings.chunkBytes, high: 4 * settings.chunkBytes))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers: [any ChannelHandler] = [
                        try NIOSSLClientHandler(context: tls, serverHostname: serverHostname),
                        ByteToMessageHandler(StreamReplyDecoder()),
                        StreamLoadHandler(plan: plan, outcome: outcome),
                    ]
                    try channel.pipeline.syncOperations.addHandlers(handlers)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: target.host, port: target.port).get()
        } catch {
            outcome.fail(error)
            throw StreamLoadError.connectFailed(connection: number, target: target.description, reason: String(describing: error))
        }
        return try await withTaskCancellationHandler {
            try await outcome.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}
