import JourneyCore
import JourneyStorage
import Logging

/// Takes snapshots: a consistent cut from the engine, written by `SnapshotWriter` off the
/// cooperative pool, published, retention applied, covered WAL segments released.
///
/// An actor that runs one snapshot at a time: callers arriving while one is written wait for it
/// to finish and then take their own, so `POST /v1/snapshots` always answers with a snapshot that
/// includes everything acknowledged before the call.
public actor Snapshotter {
    public struct Last: Sendable {
        public var name: String
        public var manifest: SnapshotManifest
        public var durationMilliseconds: Int64
    }

    private let engine: IngestEngine
    private let writer: SnapshotWriter
    private let keep: Int
    private let logger: Logger
    private var busy = false
    private var queue: [CheckedContinuation<Void, Never>] = []
    public private(set) var last: Last?

    public init(engine: IngestEngine, stateDirectory: String, keep: Int, logger: Logger) {
        self.engine = engine
        self.writer = SnapshotWriter(store: SnapshotStore(stateDirectory: stateDirectory))
        self.keep = keep
        self.logger = logger
    }

    /// The WAL must still hold everything after the older of the two snapshots that keep a
    /// recovery checkpoint, so that recovery can fall back to it if the newest fails verification.
    private func recoverablePosition(fallback: UInt64) -> UInt64 {
        let store = writer.store
        let positions = store.names().suffix(SnapshotStore.checkpointsKept).compactMap { try? store.manifest(of: $0).walPosition }
        return positions.min() ?? fallback
    }

    public func take() async throws -> Last {
        while busy {
            await withCheckedContinuation { queue.append($0) }
        }
        busy = true
        defer {
            busy = false
            if !queue.isEmpty { queue.removeFirst().resume() }
        }
        guard case let (stitcher, position)? = await engine.cut() else { throw IngestEngine.Unavailable.starting }
        let started = ContinuousClock.now
        let pacer = SnapshotPacer()
        // Handed over, not copied: the writer frees the cut on one of its threads.
        let (name, manifest) = try await writer.write(consume stitcher, walPosition: position, createdAt: .now, pacer: pacer)
        let removed = writer.store.applyRetention(keep: keep)
        await engine.snapshotPublished(at: recoverablePosition(fallback: position))
        let elapsed = ContinuousClock.now - started
        let milliseconds = elapsed.wholeMilliseconds
        let snapshot = Last(name: name, manifest: manifest, durationMilliseconds: milliseconds)
        last = snapshot
        logger.info(
            "snapshot written",
            metadata: [
                "snapshot": "\(name)", "duration_ms": "\(milliseconds)", "profiles": "\(manifest.counts.profiles)",
                "touchpoints": "\(manifest.counts.touchpoints)", "bytes": "\(manifest.files.reduce(0) { $0 + $1.bytes })",
                "wal_position": "\(position)", "removed": "\(removed.count)",
                "paced_ms": "\(Int64(pacer.sleptSeconds * 1000))",
            ])
        return snapshot
    }
}
