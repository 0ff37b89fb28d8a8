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
/// reloads the configuration and TLS material on SIGHUP.
///
/// Built once per process by `journeyd`; tests start the real binary instead of calling this.
public struct JourneydApplication: Sendable {
    public let configuration: JourneydConfiguration
    /// The file the configuration was loaded from, read again on SIGHUP; nil on local defaults
    /// (then SIGHUP reads only the TLS files again).
    public var configurationPath: String?
    /// The log level every logger follows (from `LogLineHandler.bootstrap`); SIGHUP sets it to
    /// the reloaded `logging.level`.
    public var logLevel = LogLevelControl(.info)
    /// Drop damaged WAL records in the middle of the log instead of refusing to start.
    public var skipCorruptWAL = false
    /// The version of jemalloc when it serves `malloc`, for the `starting` line (`allocator=jemalloc
    /// jemalloc_version=…`); nil when another allocator does (`allocator=other`).
    public var jemallocVersion: String?
    /// Called once recovery is done and every listener is bound, with the bound addresses
    /// (`host:port`) by listener name.
    public var onReady: @Sendable ([String: String]) -> Void = { _ in }

    public init(configuration: JourneydConfiguration) {
        self.configuration = configuration
    }

    public func run() async throws {
        let logger = Logger(label: "journeyd")
        let configuration = self.configuration
        let live = LiveConfiguration(configuration)
        let serverTLS = try TLSMaterial.serverConfiguration(configuration.tls)
        let serverCertificate = ReloadableServerCertificate(serverTLS)
        let tls = serverCertificate.installed(in: serverTLS)
        let engine = IngestEngine(
            policy: configuration.identity, maxTouchpointsPerProfile: configuration.maxTouchpointsPerProfile, logger: Logger(label: "stitcher"))
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

        // Each listener runs under a supervisor that binds a new generation when a reload moves
        // it; the limits a bound server is built with (connections, idle time) need a restart.
        let tracking = TrackingAPIController(
            live: live, engine: engine, deadLetters: deadLetters, recovered: recovered, metrics: metrics, repeats: repeats,
            logger: Logger(label: "http"))
        let http = ListenerSupervisor(listener: .http, address: configuration.listeners.http, startup: startup, logger: logger) { address, onBound in
            let router = Router(context: BasicRequestContext.self)
            tracking.addRoutes(to: router)
            let idle = configuration.limits.idleTimeout
            return Application(
                router: router,
                server: try .http2Upgrade(
                    tlsConfiguration: tls,
                    configuration: .init(idleTimeout: idle, streamConfiguration: .init(idleTimeout: TimeAmount(idle)))),
                configuration: .init(
                    address: .hostname(address.host, port: address.port),
                    availableConnectionsDelegate: .maximum(configuration.limits.maxConnections, logger: Logger(label: "http"))),
                onServerRunning: { onBound($0) },
                logger: Logger(label: "http"))
        }

        let streamTLS = ReloadableTLSContext(try NIOSSLContext(configuration: try TLSMaterial.streamConfiguration(configuration)))
        let streamIngest = StreamIngest(
            live: live, engine: engine, deadLetters: deadLetters, recovered: recovered, metrics: metrics, repeats: repeats,
            logger: Logger(label: "stream"))
        let stream = ListenerSupervisor(
            listener: .stream, address: configuration.listeners.stream, startup: startup, logger: Logger(label: "stream")
        ) { address, onBound in
            StreamListener(
                ingest: streamIngest, tls: streamTLS, address: address, maxConnections: configuration.limits.maxConnections, onBound: onBound)
        }

        let adminAPI = AdminAPIController(live: live, engine: engine, snapshotter: snapshotter, readiness: readiness)
        let admin = ListenerSupervisor(listener: .admin, address: configuration.listeners.admin, startup: startup, logger: logger) { address, onBound in
            let router = Router(context: BasicRequestContext.self)
            adminAPI.addRoutes(to: router)
            metrics.addRoute(to: router, engine: engine, snapshotter: snapshotter, admission: tracking.admission)
            return Application(
                router: router, server: configuration.listeners.adminTLS ? try .tls(tlsConfiguration: tls) : .http1(),
                configuration: .init(address: .hostname(address.host, port: address.port)),
                onServerRunning: { onBound($0) },
                logger: Logger(label: "admin"))
        }

        let load: @Sendable () throws(ConfigurationError) -> JourneydConfiguration
        if let path = configurationPath {
            load = { () throws(ConfigurationError) in try ConfigurationLoader.loadChecked(path: path) }
        } else {
            load = { configuration }
        }
        let reload = ReloadService(
            load: load, live: live, streamTLS: streamTLS, serverCertificate: serverCertificate,
            listeners: [.http: http, .stream: stream, .admin: admin], logLevel: logLevel, notifier: notifier,
            logger: Logger(label: "reload"), tlsLogger: Logger(label: "tls"))

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
            http,
            stream,
            reload,
            StatsLogService(engine: engine, snapshotter: snapshotter, metrics: metrics, recovered: recovered, live: live, logger: Logger(label: "journeyd")),
            ReadinessGate(readiness: readiness, notifier: notifier),
        ]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        let group = ServiceGroup(configuration: groupConfiguration)
        var starting: Logger.Metadata = [
            "state_dir": "\(configuration.stateDirectory)", "sources": "\(configuration.sources.count)",
            "allocator": "\(jemallocVersion == nil ? "other" : "jemalloc")",
        ]
        if let jemallocVersion { starting["jemalloc_version"] = "\(jemallocVersion)" }
        logger.info("starting", metadata: starting)
        Self.warnIfAdminIsExposed(configuration, logger: logger)
        try await group.run()
        logger.info("stopped")
    }

    /// Warns when the admin listener is reachable off this host in clear (at start, and when a
    /// reload moves it).
    static func warnIfAdminIsExposed(_ configuration: JourneydConfiguration, logger: Logger) {
        guard !configuration.listeners.admin.isLoopback && !configuration.listeners.adminTLS else { return }
        logger.warning(
            "admin listener is reachable off this host without TLS: the bearer token and customer data travel in clear; set listeners.admin.tls: true",
            metadata: ["address": "\(configuration.listeners.admin)"])
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
        report(name, detail: Self.logListening(name, channel: channel, logger: logger), logger: logger)
    }

    /// Logs `msg=listening` for a bound listener (at start, and when a reload moves it); returns
    /// its address.
    @discardableResult
    static func logListening(_ name: String, channel: any Channel, logger: Logger) -> String {
        let address = channel.localAddress?.hostAndPort ?? "unknown"
        logger.info("listening", metadata: ["listener": "\(name)", "address": "\(address)"])
        return address
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
