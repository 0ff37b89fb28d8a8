import NIOCore
import NIOTLS

/// Sends one attempt's event lines over a TLS stream connection and follows the server's acks.
///
/// Sits behind `NIOSSLClientHandler` and `StreamReplyDecoder` in one channel's pipeline and runs
/// on that channel's event loop only. Once the handshake completes it writes the auth line (if
/// any) and then chunk after chunk, but only while the channel is writable and the bytes not yet
/// acknowledged stay within the plan's window, so memory stays bounded whatever the server's pace.
/// It completes `outcome` exactly once, when the channel closes.
final class StreamLoadHandler: ChannelInboundHandler {
    typealias InboundIn = StreamReply
    typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking
        case streaming
        /// Everything settled; closing cleanly (TLS close_notify).
        case closing
        /// Something went wrong; closing.
        case failing
    }

    private let plan: StreamAttemptPlan
    private let outcomePromise: EventLoopPromise<StreamAttemptOutcome>
    private var state = State.handshaking
    private var window: StreamAckWindow
    private var nextChunk = 0
    private var outcome = StreamAttemptOutcome()
    private var lastProgress: UInt64 = 0
    private var stallCheck: Scheduled<Void>?
    private var completed = false
    /// When pacing started (the handshake), and the write waiting for its time, if any.
    private var pacingStart: UInt64 = 0
    private var pacedWrite: Scheduled<Void>?

    init(plan: StreamAttemptPlan, outcome: EventLoopPromise<StreamAttemptOutcome>) {
        self.plan = plan
        self.outcomePromise = outcome
        self.window = StreamAckWindow(limitBytes: plan.waitsForAcks ? plan.windowBytes : Int.max / 2)
    }

    private static var now: UInt64 { NIODeadline.now().uptimeNanoseconds }

    func channelActive(context: ChannelHandlerContext) {
        lastProgress = Self.now
        scheduleStallCheck(context: context)
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent, state == .handshaking {
            state = .streaming
            outcome.handshakeCompleted = true
            lastProgress = Self.now
            pacingStart = lastProgress
            if let authLine = plan.authLine {
                context.write(Self.wrapOutboundOut(authLine), promise: nil)
            }
            writeChunks(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writeChunks(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .ack(let ack):
            let now = Self.now
            do {
                try window.applyAck(ack, at: now, latencies: &outcome.ackLatencies)
            } catch {
                outcome.violatedProtocol = true
                fail(context: context, reason: error.description)
                return
            }
            plan.progress?.settled.add(ack - outcome.linesAcked, ordering: .relaxed)
            outcome.linesAcked = ack
            lastProgress = now
            if plan.waitsForAcks && ack == plan.lineCount && state == .streaming {
                outcome.settledAll = true
                outcome.finishedAt = now
                state = .closing
                context.close(promise: nil)
            } else {
                writeChunks(context: context)
            }
        case .rejected(let line, let message):
            outcome.rejectedLines += 1
            plan.progress?.errors.add(1, ordering: .relaxed)
            if outcome.firstRejection == nil { outcome.firstRejection = "line \(line): \(message)" }
        case .fatal(let message):
            outcome.serverError = outcome.serverError ?? message
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Errors while closing (a peer that drops TCP instead of answering close_notify) change nothing.
        guard state == .handshaking || state == .streaming else { return }
        if error is StreamReplyDecoder.DecodingError { outcome.violatedProtocol = true }
        fail(context: context, reason: Self.describe(error))
    }

    /// The error in words, with what to do when a TLS alert says the client's identity was refused
    /// (with TLS 1.3 that alert arrives after the client considers the handshake done).
    private static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
            return text + " (the server requires a client certificate: pass --cert and --key, or give the source stream_write_key: true for --write-key)"
        }
        if text.contains("UNKNOWN_CA") || text.contains("BAD_CERTIFICATE") || text.contains("CERTIFICATE_UNKNOWN") {
            return text + " (the server refused the client certificate: is it signed by the server's tls.client_ca?)"
        }
        return text
    }

    func channelInactive(context: ChannelHandlerContext) {
        if state == .closing && !plan.waitsForAcks { outcome.finishedAt = Self.now }
        complete()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        complete()
    }

    /// Writes chunks while the channel is writable, the window admits them and, when paced,
    /// their time has come (otherwise the next write is scheduled for that time).
    private func writeChunks(context: ChannelHandlerContext) {
        guard state == .streaming else { return }
        while nextChunk < plan.chunks.count, context.channel.isWritable {
            let chunk = plan.chunks[nextChunk]
            guard window.admits(chunk.bytes.readableBytes) else { break }
            if let rate = plan.linesPerSecond {
                let due = pacingStart &+ UInt64(Double(window.linesWritten) / rate * 1e9)
                let now = Self.now
                if due > now {
                    if pacedWrite == nil {
                        pacedWrite = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(due - now))) {
                            self.pacedWrite = nil
                            self.writeChunks(context: context)
                        }
                    }
                    break
                }
            }
            nextChunk += 1
            let isLast = nextChunk == plan.chunks.count
            window.recordWrite(lines: chunk.lines, bytes: chunk.bytes.readableBytes, flushedAt: Self.now)
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(Self.wrapOutboundOut(chunk.bytes), promise: written)
            written.futureResult.assumeIsolated().whenSuccess {
                self.lastProgress = Self.now
                if isLast { self.lastWriteCompleted(context: context) }
            }
        }
    }

    private func lastWriteCompleted(context: ChannelHandlerContext) {
        guard !plan.waitsForAcks, state == .streaming else { return }
        outcome.settledAll = true
        state = .closing
        context.close(promise: nil)
    }

    private func fail(context: ChannelHandlerContext, reason: String) {
        outcome.failure = outcome.failure ?? reason
        state = .failing
        context.close(promise: nil)
    }

    private func scheduleStallCheck(context: ChannelHandlerContext) {
        stallCheck = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) {
            self.checkForStall(context: context)
        }
    }

    private func checkForStall(context: ChannelHandlerContext) {
        guard state == .handshaking || state == .streaming else { return }
        let idle = Self.now &- lastProgress
        if idle > UInt64(plan.stallTimeout.nanoseconds) {
            let seconds = plan.stallTimeout.nanoseconds / 1_000_000_000
            let waitingFor: String
            switch state {
            case .handshaking: waitingFor = "no TLS handshake"
            default: waitingFor = plan.waitsForAcks ? "no ack and no completed write" : "no completed write"
            }
            var reason = "\(waitingFor) for \(seconds) s"
            if plan.waitsForAcks && outcome.linesAcked == 0 && state == .streaming {
                reason += " (is this a journeyd stream listener? a plain TLS sink needs --no-acks)"
            }
            fail(context: context, reason: reason)
        } else {
            scheduleStallCheck(context: context)
        }
    }

    private func complete() {
        guard !completed else { return }
        completed = true
        stallCheck?.cancel()
        stallCheck = nil
        pacedWrite?.cancel()
        pacedWrite = nil
        outcomePromise.succeed(outcome)
    }
}
