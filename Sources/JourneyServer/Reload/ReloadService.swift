import Logging
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// Owns SIGHUP, the only handler of it in the process. On each one it re-reads the configuration
/// the daemon was started with, validates it as `journeyd --check-config` does, and puts it in
/// force: the TLS files (read again even when their paths did not change), sources and their
/// write keys and client subjects, the admin token, the per-request and per-connection limits,
/// the log level and the stats interval; listeners whose address changed move to the new one.
/// Settings that need a restart keep their running value, each named in a warning line.
///
/// All or nothing: a file that does not load or validate, TLS files that do not load, or a new
/// listener address that cannot be bound refuse the whole reload with one error line, and the
/// previous configuration stays in force everywhere. Reloads run one at a time on this service's
/// task, wrapped in `RELOADING=1` … `READY=1` for systemd (`READY=1` also after a refusal).
struct ReloadService: Service {
    /// Loads and validates the configuration again (from the file given at start, or, on local
    /// defaults, the start configuration, so only the TLS files are read again).
    let load: @Sendable () throws(ConfigurationError) -> JourneydConfiguration
    let live: LiveConfiguration
    let streamTLS: ReloadableTLSContext
    let serverCertificate: ReloadableServerCertificate
    let listeners: [ReloadPlan.Listener: ListenerSupervisor]
    let logLevel: LogLevelControl
    let notifier: SystemdNotifier
    let logger: Logger
    /// Writes `tls reloaded` under the `tls` component, as before configuration reload existed.
    let tlsLogger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                await reload()
            }
        }
    }

    func reload() async {
        notifier.send(["RELOADING=1", SystemdNotifier.monotonicMicroseconds, "STATUS=reloading the configuration"])
        defer { notifier.send(["READY=1", "STATUS=ready"]) }
        do {
            try await reloadOrRefuse()
        } catch {
            logger.error("config reload refused; the previous configuration stays in force", metadata: ["error": "\(error)"])
        }
    }

    private func reloadOrRefuse() async throws(ReloadError) {
        let plan: ReloadPlan
        let streamConfiguration: TLSConfiguration
        let streamContext: NIOSSLContext
        do {
            plan = ReloadPlan(running: live.current.configuration, loaded: try load())
            streamConfiguration = try TLSMaterial.streamConfiguration(plan.inForce)
        } catch {
            throw .configuration(error)
        }
        do {
            streamContext = try NIOSSLContext(configuration: streamConfiguration)
        } catch {
            throw .configuration(.invalidValue(key: "tls.certificate", message: "cannot build a TLS context: \(error)"))
        }
        let moved = try await moveListeners(plan.moves)

        live.replace(with: plan.inForce)
        streamTLS.replace(with: streamContext)
        serverCertificate.replace(with: streamConfiguration)
        logLevel.set(Logger.Level(rawValue: plan.inForce.logging.level.rawValue) ?? .info)
        for (supervisor, generation) in moved {
            await supervisor.promote(generation)
        }
        report(plan)
    }

    /// Binds every moved listener on its new address; if one cannot be bound, stops the ones
    /// already started and refuses the reload.
    private func moveListeners(_ moves: [(listener: ReloadPlan.Listener, address: ListenAddress)]) async throws(ReloadError)
        -> [(ListenerSupervisor, Int)]
    {
        var started: [(ListenerSupervisor, Int)] = []
        for move in moves {
            guard let supervisor = listeners[move.listener] else { continue }
            do {
                started.append((supervisor, try await supervisor.start(at: move.address)))
            } catch {
                for (supervisor, generation) in started { await supervisor.discard(generation) }
                throw .listenerNotMoved(error)
            }
        }
        return started
    }

    private func report(_ plan: ReloadPlan) {
        for key in plan.needsRestart {
            logger.warning("changed setting needs a restart", metadata: ["key": "\(key)"])
        }
        if plan.moves.contains(where: { $0.listener == .admin }) {
            JourneydApplication.warnIfAdminIsExposed(plan.inForce, logger: logger)
        }
        tlsLogger.info("tls reloaded", metadata: ["certificate": "\(plan.inForce.tls.certificatePath)"])
        var metadata: Logger.Metadata = ["changed": "\(plan.applied.isEmpty ? "none" : plan.applied.joined(separator: ","))"]
        for (key, names) in [
            ("restart_needed", plan.needsRestart), ("sources_added", plan.sourcesAdded), ("sources_removed", plan.sourcesRemoved),
            ("sources_changed", plan.sourcesChanged),
        ] where !names.isEmpty {
            metadata[key] = "\(names.joined(separator: ","))"
        }
        logger.info("config reloaded", metadata: metadata)
    }
}

/// Why a reload was refused (the previous configuration stays in force).
enum ReloadError: Error, CustomStringConvertible {
    /// The file does not load or validate, or a TLS file it names does not load; names the key.
    case configuration(ConfigurationError)
    case listenerNotMoved(ListenerMoveError)

    var description: String {
        switch self {
        case .configuration(let error): error.description
        case .listenerNotMoved(let error): error.description
        }
    }
}
