import Foundation
import JourneyCore

/// Writes one snapshot of a `Stitcher` value (a consistent cut: the caller copies the stitcher and
/// reads the WAL position in the same step on the engine) and publishes it through `SnapshotStore`.
///
/// The files are independent jobs (the recovery checkpoint, each touchpoints part, profiles,
/// identities, merges) that two dedicated background threads (SCHED_IDLE) take in turn,
/// largest first, so both cores help while the daemon is quiet; while it is busy, a
/// `SnapshotPacer` holds each thread to a small share of a core.
public struct SnapshotWriter: Sendable {
    public let store: SnapshotStore
    /// Rows per touchpoints part file (`touchpoints-0001.jsonl.gz`, …).
    public let touchpointsPerPart: Int
    /// Threads writing files at once.
    public let threads: Int

    public init(store: SnapshotStore, touchpointsPerPart: Int = 1_000_000, threads: Int = 2) {
        self.store = store
        self.touchpointsPerPart = touchpointsPerPart
        self.threads = threads
    }

    /// One file of the snapshot.
    private enum Job: Sendable {
        case checkpoint
        /// Part `part` of the touchpoints, or all of them in one file when nil.
        case touchpoints(name: String, part: Int?)
        case profiles, identities, merges, sharedIdentifiers
    }

    /// Writes and publishes the snapshot; returns its name and manifest. Takes the stitcher copy
    /// over (pass it with `consume`), so that it is freed on a writer thread at the end. `pacer`
    /// paces the writer threads (pass one to read how long they slept).
    public func write(
        _ stitcher: consuming Stitcher, walPosition: UInt64, createdAt: Timestamp, pacer: SnapshotPacer = SnapshotPacer()
    ) async throws -> (name: String, manifest: SnapshotManifest) {
        let source = SnapshotSource(consume stitcher)
        do {
            let written = try await writeFiles(source, walPosition: walPosition, createdAt: createdAt, pacer: pacer)
            try await BackgroundThreads.run(background: true) { source.release() }
            return written
        } catch {
            _ = try? await BackgroundThreads.run(background: true) { source.release() }
            throw error
        }
    }

    private func writeFiles(
        _ source: SnapshotSource, walPosition: UInt64, createdAt: Timestamp, pacer: SnapshotPacer
    ) async throws -> (name: String, manifest: SnapshotManifest) {
        let name = store.nextName(at: createdAt)
        let partSize = touchpointsPerPart
        let temporary = try await BackgroundThreads.run(background: true) { [store] in try store.makeTemporaryDirectory(for: name) }
        let touchpointRows = source.stitcher.touchpointCount
        let partCount = touchpointRows <= partSize ? 1 : (touchpointRows + partSize - 1) / partSize
        let touchpointJobs: [Job] = partCount == 1
            ? [.touchpoints(name: "touchpoints.jsonl.gz", part: nil)]
            : (0..<partCount).map { .touchpoints(name: Self.partName($0 + 1), part: $0) }
        // Largest first, so the two threads finish close together. The checkpoint needs no row
        // order, so it starts while the other thread sorts the profiles (`SnapshotSource.rows`).
        let jobs: [Job] = [.checkpoint] + touchpointJobs + [.profiles, .identities, .merges, .sharedIdentifiers]
        let written = try await BackgroundThreads.run(jobs.count, threads: threads, background: true) { index in
            switch jobs[index] {
            case .checkpoint:
                return try Self.writeCheckpoint(source.stitcher, directory: temporary, pacer: pacer)
            case .touchpoints(let file, let part):
                let (rows, parts) = source.rows(partSize: partSize)
                return try Self.writeTable(file, directory: temporary, pacer: pacer) { writer in
                    for range in part.map({ [parts[$0]] }) ?? parts { try rows.writeTouchpoints(in: range, into: &writer) }
                }
            case .profiles:
                return try Self.writeTable("profiles.jsonl.gz", directory: temporary, pacer: pacer) { try source.rows(partSize: partSize).rows.writeProfiles(into: &$0) }
            case .identities:
                return try Self.writeTable("identities.jsonl.gz", directory: temporary, pacer: pacer) { try source.rows(partSize: partSize).rows.writeIdentities(into: &$0) }
            case .merges:
                return try Self.writeTable("merges.jsonl.gz", directory: temporary, pacer: pacer) { try source.rows(partSize: partSize).rows.writeMerges(into: &$0) }
            case .sharedIdentifiers:
                return try Self.writeTable(SnapshotTable.sharedIdentifiers.fileName, directory: temporary, pacer: pacer) {
                    try source.rows(partSize: partSize).rows.writeSharedIdentifiers(into: &$0)
                }
            }
        }
        let checkpoint = written[0]
        let touchpoints = written[1...touchpointJobs.count]
        let tail = touchpointJobs.count
        let (profiles, identities, merges, shared) = (written[tail + 1], written[tail + 2], written[tail + 3], written[tail + 4])
        let manifest = SnapshotManifest(
            createdAt: createdAt, walPosition: walPosition,
            counts: .init(
                profiles: profiles.rows, touchpoints: touchpoints.reduce(0) { $0 + $1.rows }, identities: identities.rows, merges: merges.rows,
                sharedIdentifiers: shared.rows),
            files: [profiles] + touchpoints + [identities, merges, shared, checkpoint])
        try await BackgroundThreads.run(background: true) { [store] in
            try store.publish(temporaryDirectory: temporary, name: name, manifest: manifest)
        }
        return (name, manifest)
    }

    /// `touchpoints-0001.jsonl.gz`, …
    private static func partName(_ number: Int) -> String {
        let digits = String(number)
        return "touchpoints-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits + ".jsonl.gz"
    }

    private static func writeTable(
        _ name: String, directory: String, pacer: SnapshotPacer, rows: (inout GzipFileWriter) throws -> Void
    ) throws -> SnapshotManifest.File {
        var writer = try GzipFileWriter(directory: directory, name: name, pacer: pacer)
        try rows(&writer)
        return try writer.finish().manifestFile
    }

    private static func writeCheckpoint(_ stitcher: Stitcher, directory: String, pacer: SnapshotPacer) throws -> SnapshotManifest.File {
        let writer = try ZstdFileWriter(directory: directory, name: SnapshotStore.checkpointFile, pacer: pacer)
        try stitcher.writeCheckpoint { try writer.append($0) }
        // A binary file has no rows; `rows` is 0 (it counts JSON lines in the tables).
        return try writer.finish().manifestFile
    }
}

/// The snapshot's copy of the state, shared by the writer threads, and freed on one of them at
/// the end: by then it holds the old version of everything ingest changed since the cut, and
/// freeing that is the biggest deallocation journeyd does — it must not run on the cooperative
/// pool. `state` is set at creation and read-only until `release()`, which runs after every job
/// ended; the rows are built by the first job that needs them, under `lock`.
private final class SnapshotSource: @unchecked Sendable {
    private var state: Stitcher?
    private let lock = NSLock()
    private var prepared: (rows: SnapshotRows, parts: [SnapshotRows.TouchpointRange])?

    init(_ stitcher: consuming Stitcher) {
        state = consume stitcher
    }

    var stitcher: Stitcher { state! }

    /// The rows (profiles sorted by id) and the touchpoint parts; the first caller builds them,
    /// the others wait for it.
    func rows(partSize: Int) -> (rows: SnapshotRows, parts: [SnapshotRows.TouchpointRange]) {
        lock.withLock {
            if let prepared { return prepared }
            let rows = SnapshotRows(state!)
            let built = (rows, rows.touchpointParts(rowsPerPart: partSize))
            prepared = built
            return built
        }
    }

    func release() {
        lock.withLock {
            state = nil
            prepared = nil
        }
    }
}

/// Runs blocking jobs on new threads (not the cooperative pool), optionally at a lower priority.
/// The threads are named `snapshot` (`DaemonThread`): the snapshot writer is their user.
enum BackgroundThreads {
    /// Runs one job on a new thread.
    static func run<T: Sendable>(background: Bool = false, _ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(1, threads: 1, background: background) { _ in try job() }[0]
    }

    /// Runs jobs `0..<count` on `threads` threads; each thread takes the next job when it finishes
    /// one. Returns the results in job order. After a job throws, no further job starts and the
    /// first error is rethrown once the running ones end.
    static func run<T: Sendable>(
        _ count: Int, threads: Int, background: Bool = false, _ job: @escaping @Sendable (Int) throws -> T
    ) async throws -> [T] {
        guard count > 0 else { return [] }
        let queue = JobQueue<T>(count: count)
        let threadCount = max(1, min(threads, count))
        return try await withCheckedThrowingContinuation { continuation in
            queue.onFinish = { continuation.resume(with: $0) }
            queue.running = threadCount
            for _ in 0..<threadCount {
                DaemonThread.start("snapshot", background: background) {
                    while let index = queue.take() {
                        queue.complete(index, Result { try job(index) })
                    }
                    queue.threadExited()
                }
            }
        }
    }

    /// The shared state of one `run`: next job, results, first error. Every access holds `lock`.
    private final class JobQueue<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0
        private var results: [T?]
        private var failure: (any Error)?
        var running = 0
        var onFinish: ((Result<[T], any Error>) -> Void)?

        init(count: Int) {
            results = Array(repeating: nil, count: count)
        }

        func take() -> Int? {
            lock.withLock {
                guard failure == nil, next < results.count else { return nil }
                next += 1
                return next - 1
            }
        }

        func complete(_ index: Int, _ result: Result<T, any Error>) {
            lock.withLock {
                switch result {
                case .success(let value): results[index] = value
                case .failure(let error): if failure == nil { failure = error }
                }
            }
        }

        func threadExited() {
            let outcome: Result<[T], any Error>? = lock.withLock {
                running -= 1
                guard running == 0 else { return nil }
                if let failure { return .failure(failure) }
                return .success(results.map { $0! })
            }
            if let outcome { onFinish?(outcome) }
        }
    }
}
