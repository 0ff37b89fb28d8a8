import JourneyStorage
import Logging
import ServiceLifecycle

/// Owns the engine's life: recovery at start (then reports ready), and at the very end of a
/// graceful shutdown — after the listeners drained and the final snapshot — flushes and syncs the
/// WAL. First in the service group, so it stops last.
struct EngineService: Service {
    let engine: IngestEngine
    let configuration: JourneydConfiguration
    let skipCorruptWAL: Bool
    let startup: StartupProgress
    /// Set once recovery is done; the tracking API refuses events with 503 until then.
    let recovered: Readiness
    let metrics: DaemonMetrics
    let logger: Logger

    func run() async throws {
        let metrics = self.metrics
        try await engine.recover(
            configuration: configuration, skipCorruptWAL: skipCorruptWAL, logger: logger, onWALSync: { metrics.walSynced(after: $0) })
        recovered.set(true)
        startup.report("recovery", detail: "done", logger: logger)
        try? await gracefulShutdown()
        await engine.close()
        logger.info("WAL closed")
    }
}

/// Takes a snapshot every `interval` once recovery is done, and a final one at shutdown (after
/// the listeners have stopped, since it comes before them in the service group).
struct SnapshotService: Service {
    let snapshotter: Snapshotter
    let engine: IngestEngine
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while await !engine.isRecovered {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(50)) }
            } catch {
                return
            }
        }
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            await takeLogged("interval")
        }
        await takeLogged("shutdown")
    }

    private func takeLogged(_ trigger: String) async {
        do {
            _ = try await snapshotter.take()
        } catch {
            logger.error("snapshot failed", metadata: ["trigger": "\(trigger)", "error": "\(error)"])
        }
    }
}
