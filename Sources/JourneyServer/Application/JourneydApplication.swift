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
/// HTTP/2 by ALPN), the TLS NDJSON stream listener and the admin listener, run as one
/// swift-service-lifecycle `ServiceGroup` that shuts down gracefully on SIGTERM/SIGINT and
/// reloads TLS material on SIGHUP.
///
/// Built once per process by `journeyd`; tests start the real binary instead of calling this.
public struct JourneydApplication: Sendable {
    public let configuration: JourneydConfiguration
    /// Drop damaged WAL records in the middle of the log instead of refusing to start.
    public var skipCorruptWAL = false
    /// Called once recovery is done and every listener is bound, with the bound addresses
    /// (`host:port`) by listener name.
    public var onReady: @Sendable ([String: String]) -> Void = { _ in }

    public init(configuration: JourneydConfiguration) {
        self.configuration = configuration
    }

    public func run() async throws {
        let logger = Logger(label: "journeyd")
        let serverTLS = try TLSMaterial.serverConfiguration(configuration.tls)
        let serverCertificate = ReloadableServerCertificate(serverTLS)
        let tls = serverCertificate.installed(in: serverTLS)
        let engine = IngestEngine(policy: configuration.identity, maxTouchpointsPerProfile: configuration.maxTouchpointsPerProfile)
        let snapshotter = Snapshotter(
            engine: engine, stateDirectory: configuration.stateDirectory, keep: configuration.snapshots.keep, logger: Logger(label: "snapshot"))
        let deadLetters = DeadLetterLog(stateDirectory: configuration.stateDirectory)
        let readiness = Readiness()
        let recovered = Readiness()
        let onReady = self.onReady
        let metrics = DaemonMetrics()
        let repeats = RepeatLimiter()
        let notifier = SystemdNotifier()
        notifier.send(["STATUS=starting: recovering state"])
        let startup = StartupProgress(expected: ["http", "stream", "admin", "recovery"]) { details in
            readiness.set(true)
            notifier.send(["READY=1", "STATUS=ready"])
            logger.info(
                "ready", metadata: ["http": "\(details["http"]!)", "stream": "\(details["stream"]!)", "admin": "\(details["admin"]!)"])
            onReady(details)
        }

        let trackingRouter = Router(context: BasicRequestContext.self)
        TrackingAPIController(
            configuration: configuration, engine: engine, deadLetters: deadLetters, recovered: recovered, metrics: metrics,
            repeats: repeats, logger: Logger(label: "http")
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
            onServerRunning: { channel in startup.report("http", channel: channel, logger: logger) },
            logger: Logger(label: "http"))

        let streamTLS = ReloadableTLSContext(try NIOSSLContext(configuration: try TLSMaterial.streamConfiguration(configuration)))
        let stream = StreamListener(
            ingest: StreamIngest(
                configuration: configuration, normaliser: configuration.eventNormaliser, engine: engine, deadLetters: deadLetters,
                recovered: recovered, metrics: metrics, repeats: repeats, logger: Logger(label: "stream")),
            tls: streamTLS, startup: startup)

        let adminRouter = Router(context: BasicRequestContext.self)
        AdminAPIController(configuration: configuration, engine: engine, snapshotter: snapshotter, readiness: readiness)
            .addRoutes(to: adminRouter)
        metrics.addRoute(to: adminRouter, engine: engine, snapshotter: snapshotter)
        let adminServer: HTTPServerBuilder = configuration.listeners.adminTLS ? try .tls(tlsConfiguration: tls) : .http1()
        let admin = Application(
            router: adminRouter, server: adminServer,
            configuration: .init(address: .hostname(configuration.listeners.admin.host, port: configuration.listeners.admin.port)),
            onServerRunning: { channel in startup.report("admin", channel: channel, logger: logger) },
            logger: Logger(label: "admin"))

        // Started in this order, stopped in reverse (each after the one before it has finished),
        // within configuration.shutdownTimeout: readiness drops (STOPPING=1), the stats line
        // ends, SIGHUP is no longer handled, the stream and tracking listeners drain, the final
        // snapshot is taken, the admin API closes, and the WAL is synced and closed. The watchdog
        // keeps pinging systemd through all of it, and a second stop signal syncs the WAL and
        // exits at once.
        let services: [any Service] = [
            ImmediateStopService(engine: engine, logger: logger),
            WatchdogService(notifier: notifier, engine: engine, recovered: recovered, readiness: readiness),
            EngineService(engine: engine, configuration: configuration, skipCorruptWAL: skipCorruptWAL, startup: startup, recovered: recovered,
                metrics: metrics, logger: Logger(label: "engine")),
            admin,
            SnapshotService(snapshotter: snapshotter, engine: engine, interval: configuration.snapshots.interval, logger: Logger(label: "snapshot")),
            tracking,
            stream,
            TLSReloadService(
                configuration: configuration, stream: streamTLS, server: serverCertificate, notifier: notifier, logger: Logger(label: "tls")),
            StatsLogService(
                engine: engine, snapshotter: snapshotter, metrics: metrics, recovered: recovered, interval: configuration.logging.statsInterval,
                logger: Logger(label: "journeyd")),
            ReadinessGate(readiness: readiness, notifier: notifier),
        ]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.info(
            "starting", metadata: ["state_dir": "\(configuration.stateDirectory)", "sources": "\(configuration.sources.count)"])
        if !configuration.listeners.admin.isLoopback && !configuration.listeners.adminTLS {
            logger.warning(
                "admin listener is reachable off this host without TLS: the bearer token and customer data travel in clear; set listeners.admin.tls: true",
                metadata: ["address": "\(configuration.listeners.admin)"])
        }
        try await group.run()
        logger.info("stopped")
    }
}

/// Collects what must be done before the daemon is ready — each listener bound (port 0 becomes a
/// real port) and recovery finished — and fires once all have reported. Shared across tasks.
final class StartupProgress: Sendable {
    private let state: Mutex<[String: String]>
    private let expected: Set<String>
    private let onAll: @Sendable ([String: String]) -> Void

    init(expected: Set<String>, onAll: @escaping @Sendable ([String: String]) -> Void) {
        self.expected = expected
        self.state = Mutex([:])
        self.onAll = onAll
    }

    func report(_ name: String, channel: any Channel, logger: Logger) {
        let address = channel.localAddress?.hostAndPort ?? "unknown"
        logger.info("listening", metadata: ["listener": "\(name)", "address": "\(address)"])
        report(name, detail: address, logger: logger)
    }

    func report(_ name: String, detail: String, logger: Logger) {
        let complete: [String: String]? = state.withLock { details in
            details[name] = detail
            return Set(details.keys) == expected ? details : nil
        }
        if let complete { onAll(complete) }
    }
}

extension SocketAddress {
    /// `host:port`, IPv6 hosts in brackets, as addresses are written in the configuration and logs.
    var hostAndPort: String {
        let host = ipAddress ?? "?"
        let port = port ?? 0
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Turns readiness off as soon as graceful shutdown begins (it is the last service, so it is
/// told first), so `/readyz` answers 503 while the listeners drain, and tells systemd `STOPPING=1`.
struct ReadinessGate: Service {
    let readiness: Readiness
    let notifier: SystemdNotifier

    func run() async throws {
        try? await gracefulShutdown()
        readiness.set(false)
        notifier.send(["STOPPING=1", "STATUS=stopping: draining connections, writing the final snapshot"])
    }
}
