import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import JourneyCore
import JourneyStorage
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// Wires the daemon: ingest engine, dead-letter log, the HTTPS tracking listener (HTTP/1.1 and
/// HTTP/2 by ALPN) and the admin listener, run as one swift-service-lifecycle `ServiceGroup`
/// that shuts down gracefully on SIGTERM/SIGINT.
///
/// Built once per process by `journeyd`; tests start the real binary instead of calling this.
public struct JourneydApplication: Sendable {
    public let configuration: JourneydConfiguration
    /// Called once every listener is bound, with the bound addresses (`host:port`) by listener name.
    public var onReady: @Sendable ([String: String]) -> Void = { _ in }

    public init(configuration: JourneydConfiguration) {
        self.configuration = configuration
    }

    public func run() async throws {
        let logger = Logger(label: "journeyd")
        let tls = try TLSMaterial.serverConfiguration(configuration.tls)
        let engine = IngestEngine(policy: configuration.identity, maxTouchpointsPerProfile: configuration.maxTouchpointsPerProfile)
        let deadLetters = DeadLetterLog(stateDirectory: configuration.stateDirectory)
        let readiness = Readiness()
        let onReady = self.onReady
        let bound = BoundListeners(expected: ["http", "admin"]) { addresses in
            readiness.set(true)
            logger.info("ready", metadata: ["http": "\(addresses["http"]!)", "admin": "\(addresses["admin"]!)"])
            onReady(addresses)
        }

        let trackingRouter = Router(context: BasicRequestContext.self)
        TrackingAPIController(
            configuration: configuration, engine: engine, deadLetters: deadLetters, logger: Logger(label: "http")
        ).addRoutes(to: trackingRouter)
        let idle = configuration.limits.idleTimeout
        let tracking = Application(
            router: trackingRouter,
            server: try .http2Upgrade(
                tlsConfiguration: tls,
                configuration: .init(
                    idleTimeout: idle, streamConfiguration: .init(idleTimeout: .nanoseconds(Int64(idle.components.seconds) * 1_000_000_000)))),
            configuration: .init(
                address: .hostname(configuration.listeners.http.host, port: configuration.listeners.http.port),
                availableConnectionsDelegate: .maximum(configuration.limits.maxConnections, logger: Logger(label: "http"))),
            onServerRunning: { channel in bound.report("http", channel: channel, logger: logger) },
            logger: Logger(label: "http"))

        let adminRouter = Router(context: BasicRequestContext.self)
        AdminAPIController(configuration: configuration, engine: engine, readiness: readiness).addRoutes(to: adminRouter)
        let adminServer: HTTPServerBuilder = configuration.listeners.adminTLS ? try .tls(tlsConfiguration: tls) : .http1()
        let admin = Application(
            router: adminRouter, server: adminServer,
            configuration: .init(address: .hostname(configuration.listeners.admin.host, port: configuration.listeners.admin.port)),
            onServerRunning: { channel in bound.report("admin", channel: channel, logger: logger) },
            logger: Logger(label: "admin"))

        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: admin), .init(service: tracking), .init(service: ReadinessGate(readiness: readiness))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info(
            "starting", metadata: ["state_dir": "\(configuration.stateDirectory)", "sources": "\(configuration.sources.count)"])
        try await group.run()
        logger.info("stopped")
    }
}

/// Collects the addresses listeners actually bound (port 0 becomes a real port) and fires once all have.
final class BoundListeners: Sendable {
    private let state: Mutex<[String: String]>
    private let expected: Set<String>
    private let onAll: @Sendable ([String: String]) -> Void

    init(expected: Set<String>, onAll: @escaping @Sendable ([String: String]) -> Void) {
        self.expected = expected
        self.state = Mutex([:])
        self.onAll = onAll
    }

    func report(_ name: String, channel: any Channel, logger: Logger) {
        let address = channel.localAddress.map(Self.describe) ?? "unknown"
        logger.info("listening", metadata: ["listener": "\(name)", "address": "\(address)"])
        let complete: [String: String]? = state.withLock { addresses in
            addresses[name] = address
            return Set(addresses.keys) == expected ? addresses : nil
        }
        if let complete { onAll(complete) }
    }

    private static func describe(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        let port = address.port ?? 0
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Turns readiness off as soon as graceful shutdown begins (it is the last service, so it is
/// told first), so `/readyz` answers 503 while the listeners drain.
struct ReadinessGate: Service {
    let readiness: Readiness

    func run() async throws {
        try? await gracefulShutdown()
        readiness.set(false)
    }
}
