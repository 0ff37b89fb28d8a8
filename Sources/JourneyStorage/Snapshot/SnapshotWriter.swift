import CSystemSupport
import Foundation
import JourneyCore

/// Writes one snapshot of a `Stitcher` value (a consistent cut: the caller copies the stitcher and
/// reads the WAL position in the same step on the engine) and publishes it through `SnapshotStore`.
///
/// Runs on two dedicated threads at lowered CPU priority (nice +10), so that ingest keeps its
/// cores: one writes touchpoints (the largest table, in numbered parts), the other profiles,
/// identities, merges and the recovery checkpoint.
public struct SnapshotWriter: Sendable {
    public let store: SnapshotStore
    /// Rows per touchpoints part file (`touchpoints-0001.jsonl.gz`, …).
    public let touchpointsPerPart: Int

    public init(store: SnapshotStore, touchpointsPerPart: Int = 1_000_000) {
        self.store = store
        self.touchpointsPerPart = touchpointsPerPart
    }

    /// Writes and publishes the snapshot; returns its name and manifest.
    public func write(_ stitcher: Stitcher, walPosition: UInt64, createdAt: Timestamp) async throws -> (name: String, manifest: SnapshotManifest) {
        let name = store.nextName(at: createdAt)
        let temporary = try store.makeTemporaryDirectory(for: name)
        let rows = SnapshotRows(stitcher)
        let partSize = touchpointsPerPart
        async let touchpointFiles = BackgroundThread.run(niceness: 10) { () throws -> [SnapshotManifest.File] in
            try Self.writeTouchpoints(rows, directory: temporary, partSize: partSize)
        }
        async let otherFiles = BackgroundThread.run(niceness: 10) { () throws -> [SnapshotManifest.File] in
            var files: [SnapshotManifest.File] = []
            files.append(try Self.writeTable("profiles.jsonl.gz", directory: temporary) { try rows.forEachProfile($0) })
            files.append(try Self.writeTable("identities.jsonl.gz", directory: temporary) { try rows.forEachIdentity($0) })
            files.append(try Self.writeTable("merges.jsonl.gz", directory: temporary) { try rows.forEachMerge($0) })
            files.append(try Self.writeCheckpoint(stitcher, directory: temporary))
            return files
        }
        let (tables, others) = try await (touchpointFiles, otherFiles)
        let files = others.prefix(1) + tables + others.dropFirst()
        let manifest = SnapshotManifest(
            createdAt: createdAt, walPosition: walPosition,
            counts: .init(profiles: files[0].rows, touchpoints: tables.reduce(0) { $0 + $1.rows },
                          identities: others[1].rows, merges: others[2].rows),
            files: Array(files))
        try store.publish(temporaryDirectory: temporary, name: name, manifest: manifest)
        return (name, manifest)
    }

    private static func writeTable(_ name: String, directory: String, rows: ((([UInt8]) throws -> Void)) throws -> Void) throws -> SnapshotManifest.File {
        let writer = try GzipFileWriter(directory: directory, name: name)
        try rows { try writer.appendRow($0) }
        return try writer.finish().manifestFile
    }

    /// Touchpoints in one file, or in numbered parts of `partSize` rows when there are more.
    private static func writeTouchpoints(_ rows: SnapshotRows, directory: String, partSize: Int) throws -> [SnapshotManifest.File] {
        guard rows.touchpointCount > partSize else {
            return [try writeTable("touchpoints.jsonl.gz", directory: directory) { try rows.forEachTouchpoint($0) }]
        }
        var files: [SnapshotManifest.File] = []
        var current: GzipFileWriter?
        try rows.forEachTouchpoint { row in
            if current == nil || current!.rows >= partSize {
                if let full = current { files.append(try full.finish().manifestFile) }
                let number = String(files.count + 1)
                current = try GzipFileWriter(directory: directory, name: "touchpoints-" + String(repeating: "0", count: max(0, 4 - number.count)) + number + ".jsonl.gz")
            }
            try current!.appendRow(row)
        }
        if let last = current { files.append(try last.finish().manifestFile) }
        return files
    }

    private static func writeCheckpoint(_ stitcher: Stitcher, directory: String) throws -> SnapshotManifest.File {
        let writer = try GzipFileWriter(directory: directory, name: SnapshotStore.checkpointFile)
        try stitcher.writeCheckpoint { try writer.append($0) }
        // A binary file has no rows; `rows` is 0 (it counts JSON lines in the tables).
        return try writer.finish().manifestFile
    }
}

extension GzipFileWriter.Summary {
    var manifestFile: SnapshotManifest.File {
        SnapshotManifest.File(name: name, bytes: bytes, rows: rows, sha256: sha256)
    }
}

/// Runs blocking work on a new thread (not the cooperative pool), optionally at a lower priority.
enum BackgroundThread {
    static func run<T: Sendable>(niceness: Int32 = 0, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                if niceness != 0 { _ = journeyd_set_thread_niceness(niceness) }
                continuation.resume(with: Result { try work() })
            }
            thread.name = "journeyd-snapshot"
            thread.start()
        }
    }
}
