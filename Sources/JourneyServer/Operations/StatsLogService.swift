import Foundation
import JourneyCore
import Logging
import ServiceLifecycle

/// Writes one `msg=stats` line every `logging.stats_interval` (default 60 s) for people and tools
/// tailing the log: events in, rejected and deduplicated during the interval (and per second),
/// what the stitcher holds, WAL bytes and syncs, the last snapshot, stream connections and RSS.
/// Counts only, never identifiers. A service of its own; stops at the start of a graceful shutdown.
/// The interval in force is read before each wait, so a reload changes the next one.
struct StatsLogService: Service {
    let engine: IngestEngine
    let snapshotter: Snapshotter
    let metrics: DaemonMetrics
    let recovered: Readiness
    let live: LiveConfiguration
    let logger: Logger

    func run() async throws {
        var previous: IngestEngine.Stats?
        while true {
            let interval = live.current.configuration.logging.statsInterval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            guard recovered.isReady else { continue }
            let stats = await engine.stats()
            let last = await snapshotter.last
            var fields = Self.fields(stats, previous: previous, interval: interval, last: last, connections: metrics.streamConnections)
            let syncs = metrics.takeSyncDurations().sorted()
            if !syncs.isEmpty {
                let p99 = syncs[min(syncs.count - 1, syncs.count * 99 / 100)]
                fields["wal_fsync_p99_ms"] = "\(String(format: "%.2f", p99.inSeconds * 1000))"
            }
            logger.info("stats", metadata: fields)
            previous = stats
        }
    }

    static func fields(
        _ stats: IngestEngine.Stats, previous: IngestEngine.Stats?, interval: Duration, last: Snapshotter.Last?, connections: Int
    ) -> Logger.Metadata {
        let seconds = interval.inSeconds
        let stored = stats.stitcher.eventsStored - (previous?.stitcher.eventsStored ?? 0)
        let duplicates = stats.stitcher.duplicates - (previous?.stitcher.duplicates ?? 0)
        let rejected = stats.rejected - (previous?.rejected ?? 0)
        let eventsIn = stored + duplicates
        var fields: Logger.Metadata = [
            "interval_s": "\(Int(seconds.rounded()))",
            "events_in": "\(eventsIn)", "events_per_s": "\(Int((Double(eventsIn) / seconds).rounded()))",
            "rejected": "\(rejected)", "deduplicated": "\(duplicates)",
            "profiles": "\(stats.profiles)", "identifiers": "\(stats.identifiers)", "touchpoints": "\(stats.touchpoints)",
            "merges": "\(stats.stitcher.merges)", "blocked_merges": "\(stats.stitcher.blockedMerges)",
            "stream_connections": "\(connections)", "rss_bytes": "\(ProcessMemory.residentBytes() ?? 0)",
        ]
        if let wal = stats.wal {
            fields["wal_bytes"] = "\(wal.bytesWritten)"
            fields["wal_syncs"] = "\(wal.syncs - (previous?.wal?.syncs ?? 0))"
        }
        if let last {
            fields["snapshot_age_s"] = "\((Timestamp.now.millisecondsSinceEpoch - last.manifest.createdAt.millisecondsSinceEpoch) / 1000)"
            fields["snapshot_duration_ms"] = "\(last.durationMilliseconds)"
        }
        return fields
    }
}
