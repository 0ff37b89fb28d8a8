import JourneyCore
import Logging
import ServiceLifecycle

/// Keeps systemd's watchdog fed and its status line current. Every tick it asks the engine for
/// its statistics — a round trip through the actor that owns the stitcher, so a stuck stitcher
/// stops the `WATCHDOG=1` pings and systemd restarts the daemon — then sends `WATCHDOG=1` (when
/// `WatchdogSec=` is set) and a one-line `STATUS=`.
///
/// Ticks at half of `$WATCHDOG_USEC`, or every 10 s for the status alone; only waits for the
/// shutdown outside systemd. Near the front of the service group, so it is told to stop only
/// after the rest has stopped: it keeps feeding the watchdog while a long stop (draining, the
/// final snapshot) runs.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let engine: IngestEngine
    let recovered: Readiness
    /// Ready to serve; while not (binding at start, stopping), the pings leave `STATUS=` alone.
    let readiness: Readiness

    static let statusInterval: Duration = .seconds(10)

    func run() async throws {
        guard notifier.isEnabled else {
            // Returning early would end the whole service group; wait for the shutdown instead.
            try? await gracefulShutdown()
            return
        }
        let interval = min(notifier.watchdogInterval ?? Self.statusInterval, Self.statusInterval)
        var previous: (events: Int, at: ContinuousClock.Instant)?
        while !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            guard recovered.isReady else {
                if notifier.watchdogInterval != nil { notifier.send(["WATCHDOG=1", "STATUS=recovering state"]) }
                continue
            }
            let stats = await engine.stats()
            let now = ContinuousClock.now
            let events = stats.stitcher.eventsStored
            var rate = 0.0
            if let previous {
                let seconds = (now - previous.at).inSeconds
                rate = seconds > 0 ? Double(events - previous.events) / seconds : 0
            }
            previous = (events, now)
            var fields: [String] = []
            if notifier.watchdogInterval != nil { fields.append("WATCHDOG=1") }
            if readiness.isReady {
                fields.append("STATUS=ready: \(Int(rate.rounded())) events/s, \(stats.profiles) profiles, \(stats.touchpoints) touchpoints")
            }
            guard !fields.isEmpty else { continue }
            notifier.send(fields)
        }
    }
}
