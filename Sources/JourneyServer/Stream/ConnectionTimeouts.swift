import NIOCore
import NIOTLS

/// Enforces a stream connection's time limits and reports how its TLS handshake ended: the
/// connection is closed if the handshake has not completed within `handshakeTimeout`, or when
/// the `IdleStateHandler` before it reports no bytes read for the idle timeout.
///
/// One per connection, in its pipeline after the TLS and idle handlers; runs on the channel's
/// event loop. `handshake` is completed exactly once, and read from the connection's task.
final class ConnectionTimeouts: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    private let handshakeTimeout: TimeAmount
    private let handshake: EventLoopPromise<Void>
    private var handshakeTimer: Scheduled<Void>?
    private var handshakeSettled = false

    init(handshakeTimeout: TimeAmount, handshake: EventLoopPromise<Void>) {
        self.handshakeTimeout = handshakeTimeout
        self.handshake = handshake
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) {
            self.settleHandshake(.failure(StreamConnectionError.handshakeTimedOut(self.handshakeTimeout)))
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        settleHandshake(.failure(StreamConnectionError.closedDuringHandshake))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            settleHandshake(.success(()))
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        settleHandshake(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        settleHandshake(.failure(StreamConnectionError.closedDuringHandshake))
        context.fireChannelInactive()
    }

    private func settleHandshake(_ result: Result<Void, any Error>) {
        guard !handshakeSettled else { return }
        handshakeSettled = true
        handshakeTimer?.cancel()
        handshake.completeWith(result)
    }
}

/// Why a stream connection ended before it carried events.
enum StreamConnectionError: Error, CustomStringConvertible {
    case handshakeTimedOut(TimeAmount)
    case closedDuringHandshake

    var description: String {
        switch self {
        case .handshakeTimedOut(let timeout):
            return "TLS handshake not completed within \(timeout.nanoseconds / 1_000_000) ms (limits.handshake_timeout)"
        case .closedDuringHandshake:
            return "the client closed the connection during the TLS handshake"
        }
    }
}
