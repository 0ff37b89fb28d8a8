import Foundation
import JourneyCore
import JourneyStorage
import Logging

/// Rebuilds the in-memory state at start: the newest snapshot whose files verify, then every WAL
/// record after its position; then opens the WAL for appending. Runs once, before ingest opens.
enum Recovery {
    struct Result {
        var stitcher: Stitcher
        var wal: WriteAheadLog
        var snapshot: String?
        var walPosition: UInt64
        var replayed: Int
    }

    static func run(
        configuration: JourneydConfiguration, skipCorruptWAL: Bool, logger: Logger, onWALSync: @escaping WriteAheadLog.SyncObserver
    ) throws -> Result {
        let started = ContinuousClock.now
        let store = SnapshotStore(stateDirectory: configuration.stateDirectory)
        store.removeLeftovers()
        var stitcher = Stitcher(policy: configuration.identity, maxTouchpointsPerProfile: configuration.maxTouchpointsPerProfile)
        var position: UInt64 = 0
        var loaded: String?
        for name in store.names().reversed() {
            // The files are verified while the checkpoint loads; a snapshot is used only if both succeed.
            let verification = store.startVerifying(name)
            do {
                let restored = Swift.Result {
                    try CheckpointLoader.load(
                        snapshotDirectory: store.directory + "/" + name, policy: configuration.identity,
                        maxTouchpointsPerProfile: configuration.maxTouchpointsPerProfile)
                }
                // A file that does not match its manifest explains a failed load best, so the
                // verdict is checked first.
                let manifest = try verification.wait()
                stitcher = try restored.get()
                position = manifest.walPosition
                loaded = name
                logger.info("snapshot loaded", metadata: ["snapshot": "\(name)", "profiles": "\(stitcher.profileCount)", "wal_position": "\(position)"])
                break
            } catch {
                logger.warning("snapshot skipped", metadata: ["snapshot": "\(name)", "error": "\(error)"])
            }
        }
        // From here on (WAL replay, then live ingest) the arena's new blocks are mapped ahead on
        // their own thread; the supply lives as long as the stitcher and its copies.
        stitcher.newPayloadBlock = MappedPayloadBlocks(capacity: 8, threadName: "payload-memory").take
        let walDirectory = configuration.stateDirectory + "/wal"
        if let first = try WALReader.segments(in: walDirectory).first, first.base > position {
            // The WAL no longer reaches back to the state we could load: events in between are gone.
            throw RecoveryError.walGap(snapshot: loaded, position: position, walStart: first.base)
        }
        var replayed = 0
        let scan = try WALReader.replay(directory: walDirectory, after: position, skipCorrupt: skipCorruptWAL, logger: logger) { record in
            switch record.type {
            case .event:
                var reader = BinaryReader(record.payload)
                let event = try NormalisedEvent(decoding: &reader)
                _ = stitcher.apply(CollectionOfOne(event), settling: false)
                replayed += 1
            case .operation:
                var reader = BinaryReader(record.payload)
                let recorded = try RecordedOperation(decoding: &reader)
                // It was checked before it was logged, so it applies again at the same point.
                _ = try? stitcher.perform(recorded.operation, at: recorded.at)
                replayed += 1
            }
        }
        stitcher.settle()
        let durability: WriteAheadLog.Durability = switch configuration.durability {
        case .fsync: .fsync
        case .interval: .interval(configuration.durabilityInterval)
        case .none: .none
        }
        let wal = try WriteAheadLog(directory: walDirectory, durability: durability, scan: scan, logger: Logger(label: "wal"), onSync: onWALSync)
        wal.releaseSegments(before: position)
        let elapsed = ContinuousClock.now - started
        logger.info(
            "recovered",
            metadata: [
                "snapshot": "\(loaded ?? "none")", "wal_records_replayed": "\(replayed)", "wal_bytes_cut": "\(scan.bytesCut)",
                "profiles": "\(stitcher.profileCount)", "duration_ms": "\(elapsed.wholeMilliseconds)",
            ])
        return Result(stitcher: stitcher, wal: wal, snapshot: loaded, walPosition: scan.endLSN, replayed: replayed)
    }
}

/// Recovery cannot rebuild a state that is known to be complete.
enum RecoveryError: Error, CustomStringConvertible {
    case walGap(snapshot: String?, position: UInt64, walStart: UInt64)

    var description: String {
        switch self {
        case .walGap(let snapshot, let position, let walStart):
            let from = snapshot.map { "snapshot \($0)" } ?? "an empty state (no usable snapshot)"
            return "cannot recover: \(from) ends at WAL position \(position) but the WAL starts at \(walStart); "
                + "restore the snapshot directory or the missing WAL segments (see docs/DURABILITY.md)"
        }
    }
}
