import JourneyCore
import JourneyStorage
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The TLS NDJSON stream listener (`listeners.stream`): accepts TLS 1.2+ connections, with the
/// context `ReloadableTLSContext` holds when each is accepted, and serves each as a
/// `StreamConnection` in its own child task, at most `maxConnections` at once (further
/// connections wait in the kernel's backlog). Each connection takes the configuration in force
/// when it is accepted (handshake and idle timeouts, line length, sources).
///
/// A swift-service-lifecycle `Service`, one per bound address (`ListenerSupervisor` runs a new one
/// when the address changes). On graceful shutdown it stops accepting, each connection stops
/// reading, acknowledges what it stored, and closes; `run` returns once all have.
struct StreamListener: Service {
    let ingest: StreamIngest
    let tls: ReloadableTLSContext
    let address: ListenAddress
    let maxConnections: Int
    /// Called once the listener is bound.
    let onBound: @Sendable (any Channel) -> Void

    /// A connection as the initializer hands it to the accept loop.
    struct Accepted: Sendable {
        var connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        var handshake: EventLoopFuture<Void>
        var settings: LiveConfiguration.Settings
    }

    func run() async throws {
        let tls = self.tls
        let live = ingest.live
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Large socket reads: TLS hands on one plaintext buffer per read, and each becomes one
            // chunk (one hand-over to the engine, one acknowledgement), so fewer, larger chunks
            // mean fewer thread wake-ups per event. Bounded: 8 buffered reads + the in-flight window.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 262_144))
            .bind(
                host: address.host, port: address.port,
                serverBackPressureStrategy: .init(lowWatermark: 1, highWatermark: 2)
            ) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let settings = live.current
                    let limits = settings.configuration.limits
                    let handshakeTimeout = TimeAmount(limits.handshakeTimeout)
                    let idleTimeout = limits.idleTimeout > .zero ? TimeAmount(limits.idleTimeout) : nil
                    let handshake = channel.eventLoop.makePromise(of: Void.self)
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(NIOSSLServerHandler(context: tls.context))
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.addHandler(ConnectionTimeouts(handshakeTimeout: handshakeTimeout, handshake: handshake))
                    let connection = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8)))
                    return Accepted(connection: connection, handshake: handshake.futureResult, settings: settings)
                }
            }
        onBound(server.channel)
        let slots = AsyncSlots(maxConnections)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { accepted in
                    var connections = accepted.makeAsyncIterator()
                    while true {
                        do {
                            try await slots.acquire()
                        } catch {
                            return
                        }
                        guard let next = try await connections.next() else {
                            slots.release()
                            return
                        }
                        group.addTask {
                            defer { slots.release() }
                            await StreamConnection(ingest: ingest, settings: next.settings, connection: next.connection, handshake: next.handshake).run()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            slots.close()
            server.channel.close(promise: nil)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(duration.wholeNanoseconds)
    }
}
