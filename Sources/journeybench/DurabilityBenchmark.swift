import Foundation
import JourneyCore
import JourneyServer
import JourneySimulation
import JourneyStorage
import Logging

/// Issue-3 benchmarks: WAL group-commit append rate with fsync, snapshot time at scale, recovery
/// (checkpoint load + WAL replay) time, and what a snapshot costs the writer thread that keeps
/// ingesting meanwhile (the copy-on-write stall after the cut, and the apply rate while the
/// snapshot threads run).
enum DurabilityBenchmark {
    struct WALResult {
        var events: Int
        var seconds: Double
        var syncs: UInt64
        var bytes: UInt64
        /// The benchmark process's highest RSS while appending.
        var residentPeak: Int
        var eventsPerSecond: Double { Double(events) / seconds }
    }

    struct ScaleResult {
        var profiles: Int
        var touchpoints: Int
        var buildSeconds: Double
        var residentAfterBuild: Int
        var snapshotSeconds: Double
        var snapshotBytes: Int
        var residentPeakDuringSnapshot: Int
        var recoverySeconds: Double
        var replayEventsPerSecond: Double
        var applyRateBefore: Double
        var applyRateDuringSnapshot: Double
        var firstApplyAfterCutMicroseconds: Double
        var maxApplyDuringSnapshotMicroseconds: Double
    }

    /// `appenders` tasks append 100-event batches (real encoded events) and wait for fsync.
    static func walAppendRate(seed: UInt64, seconds: Double, appenders: Int, log: (String) -> Void) async throws -> WALResult {
        let directory = NSTemporaryDirectory() + "journeybench-wal-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var generator = CorpusGenerator(seed: seed, population: Population(seed: seed, count: 20_000))
        var normaliser = BatchNormaliser()
        var events: [NormalisedEvent] = []
        while events.count < 10_000 { normaliser.normalise(generator.batch(events: 100), into: &events) }
        var batches: [WALBatch] = []
        var writer = BinaryWriter()
        for start in stride(from: 0, to: events.count, by: 100) {
            var batch = WALBatch()
            for event in events[start..<min(start + 100, events.count)] {
                writer.removeAll()
                event.encode(into: &writer)
                batch.add(.event, payload: writer.bytes)
            }
            batches.append(batch)
        }
        let logger = Logger(label: "bench-wal")
        let scan = try WALReader.replay(directory: directory, after: 0, logger: logger) { _ in }
        let wal = try WriteAheadLog(directory: directory, durability: .fsync, scan: scan, logger: logger)
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let peak = PeakResident()
        peak.sample(force: true)
        let start = BenchClock.nanoseconds()
        let appended = try await withThrowingTaskGroup(of: Int.self) { group in
            for appender in 0..<appenders {
                group.addTask { [batches] in
                    var count = 0
                    var index = appender
                    while ContinuousClock.now < deadline {
                        let batch = batches[index % batches.count]
                        try await wal.waitDurable(try wal.append(batch))
                        peak.sample()
                        count += batch.count
                        index += appenders
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = BenchClock.seconds(since: start)
        peak.sample(force: true)
        let metrics = wal.metrics
        await wal.close()
        log("wal: \(appended) events in \(String(format: "%.1f", elapsed)) s, \(metrics.syncs) syncs")
        return WALResult(events: appended, seconds: elapsed, syncs: metrics.syncs, bytes: metrics.bytesWritten, residentPeak: peak.value)
    }

    /// The customers the scale benchmark builds its state from (benchmark 7 sends their events
    /// to a daemon started on a kept snapshot of that state).
    static func scalePopulation(seed: UInt64, customers: Int) -> Population {
        Population(seed: seed &+ 7, count: customers)
    }

    static func scale(seed: UInt64, customers: Int, events total: Int, chunkSize: Int, keepFiles: Bool, log: (String) -> Void) async throws -> ScaleResult {
        let policy = try IdentityPolicy()
        var generator = CorpusGenerator(seed: seed &+ 7, population: scalePopulation(seed: seed, customers: customers))
        var normaliser = BatchNormaliser()
        var stitcher = Stitcher(policy: policy)
        let buildStart = BenchClock.nanoseconds()
        var applied = 0
        var chunk: [NormalisedEvent] = []
        while applied < total {
            chunk.removeAll(keepingCapacity: true)
            while chunk.count < min(chunkSize, total - applied) { normaliser.normalise(generator.batch(events: 100), into: &chunk) }
            for event in chunk { _ = stitcher.apply(event) }
            applied += chunk.count
            if applied % (total / 10 == 0 ? total : total / 10) < chunk.count { log("scale: built \(applied)/\(total) touchpoints") }
        }
        let buildSeconds = BenchClock.seconds(since: buildStart)
        ProcessStats.trimHeap()
        let residentAfterBuild = ProcessMemory.residentBytes() ?? 0

        // Events that keep arriving while the snapshot is written.
        var more: [NormalisedEvent] = []
        while more.count < 200_000 { normaliser.normalise(generator.batch(events: 100), into: &more) }
        let before = more[0..<100_000]
        let during = more[100_000...]
        var rateStart = BenchClock.nanoseconds()
        for event in before { _ = stitcher.apply(event) }
        let applyRateBefore = Double(before.count) / BenchClock.seconds(since: rateStart)

        let state = NSTemporaryDirectory() + "journeybench-snap-\(UUID().uuidString.prefix(8))"
        defer {
            if keepFiles {
                log("scale: snapshot kept in \(state)/snapshots (--recover-from it to time a recovery in a fresh process)")
            } else {
                try? FileManager.default.removeItem(atPath: state)
            }
        }
        let store = SnapshotStore(stateDirectory: state)
        let cut = stitcher
        let peak = PeakResident()
        let snapshotStart = BenchClock.nanoseconds()
        async let written = SnapshotWriter(store: store).write(cut, walPosition: 0, createdAt: .now)
        // The engine keeps applying while the snapshot threads run.
        var first = true
        var firstMicroseconds = 0.0
        var maxMicroseconds = 0.0
        rateStart = BenchClock.nanoseconds()
        for event in during {
            let one = BenchClock.nanoseconds()
            _ = stitcher.apply(event)
            let micros = Double(BenchClock.nanoseconds() - one) / 1000
            if first {
                firstMicroseconds = micros
                first = false
            }
            maxMicroseconds = max(maxMicroseconds, micros)
            peak.sample()
        }
        let applyRateDuring = Double(during.count) / BenchClock.seconds(since: rateStart)
        let (name, manifest) = try await written
        let snapshotSeconds = BenchClock.seconds(since: snapshotStart)
        peak.sample()
        log("scale: snapshot \(name) written in \(String(format: "%.1f", snapshotSeconds)) s")

        stitcher = Stitcher(policy: policy)
        ProcessStats.trimHeap()
        let recoveryStart = BenchClock.nanoseconds()
        let restored = try CheckpointLoader.load(snapshotDirectory: store.directory + "/" + name, policy: policy, maxTouchpointsPerProfile: 10_000)
        let recoverySeconds = BenchClock.seconds(since: recoveryStart)
        var replayed = restored
        let replayStart = BenchClock.nanoseconds()
        for event in during { _ = replayed.apply(event) }
        let replayRate = Double(during.count) / BenchClock.seconds(since: replayStart)
        withExtendedLifetime(cut) {}
        return ScaleResult(
            profiles: manifest.counts.profiles, touchpoints: manifest.counts.touchpoints, buildSeconds: buildSeconds,
            residentAfterBuild: residentAfterBuild, snapshotSeconds: snapshotSeconds,
            snapshotBytes: manifest.files.reduce(0) { $0 + $1.bytes }, residentPeakDuringSnapshot: peak.value,
            recoverySeconds: recoverySeconds, replayEventsPerSecond: replayRate,
            applyRateBefore: applyRateBefore, applyRateDuringSnapshot: applyRateDuring,
            firstApplyAfterCutMicroseconds: firstMicroseconds, maxApplyDuringSnapshotMicroseconds: maxMicroseconds)
    }
}

/// The highest RSS seen, sampled cheaply (every 1,000 calls, or on every `force`d call); safe to
/// sample from several tasks.
final class PeakResident: @unchecked Sendable {
    private let lock = NSLock()
    private var highest = 0
    private var calls = 0

    var value: Int { lock.withLock { highest } }

    func sample(force: Bool = false) {
        let due = lock.withLock {
            calls += 1
            return force || calls % 1000 == 1
        }
        guard due, let resident = ProcessMemory.residentBytes() else { return }
        lock.withLock { highest = max(highest, resident) }
    }
}

extension DurabilityBenchmark {
    struct RecoveryResult {
        var seconds: Double
        var profiles: Int
        var touchpoints: Int
        var resident: Int
        /// With `thenSnapshot`: how long the snapshot of the loaded state took, the CPU time it used
        /// (both writer threads), and the RSS peak.
        var snapshot: (seconds: Double, cpuSeconds: Double, residentPeak: Int)?
    }

    /// Loads a snapshot's checkpoint in this (fresh) process, as a restarting daemon does; with
    /// `thenSnapshot`, then writes a snapshot of the loaded state (nothing else running) into a
    /// temporary state directory, removed afterwards. Loading a kept checkpoint (about 20 s) is
    /// much quicker than building the population (about 3 minutes), so this is the loop for
    /// trying snapshot-writer changes; the loaded state is laid out more compactly in memory than
    /// one built by ingest, so `--only snapshot` remains the figure to report.
    static func recover(snapshotDirectory: String, thenSnapshot: Bool, log: @escaping @Sendable (String) -> Void) async throws -> RecoveryResult {
        let start = BenchClock.nanoseconds()
        let restored = try CheckpointLoader.load(snapshotDirectory: snapshotDirectory, policy: try IdentityPolicy(), maxTouchpointsPerProfile: 10_000)
        let seconds = BenchClock.seconds(since: start)
        log("recover: \(restored.touchpointCount) touchpoints in \(String(format: "%.1f", seconds)) s")
        var result = RecoveryResult(
            seconds: seconds, profiles: restored.profileCount, touchpoints: restored.touchpointCount, resident: ProcessMemory.residentBytes() ?? 0)
        guard thenSnapshot else { return result }
        let state = NSTemporaryDirectory() + "journeybench-resnap-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let peak = PeakResident()
        let sampler = Task {
            while !Task.isCancelled {
                peak.sample(force: true)
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let snapshotStart = BenchClock.nanoseconds()
        let cpuStart = ProcessStats.cpuSeconds() ?? 0
        let (name, _) = try await SnapshotWriter(store: SnapshotStore(stateDirectory: state)).write(restored, walPosition: 0, createdAt: .now)
        let snapshotSeconds = BenchClock.seconds(since: snapshotStart)
        let cpuSeconds = (ProcessStats.cpuSeconds() ?? 0) - cpuStart
        sampler.cancel()
        log("recover: snapshot \(name) of the loaded state written in \(String(format: "%.1f", snapshotSeconds)) s, \(String(format: "%.1f", cpuSeconds)) CPU s")
        result.snapshot = (snapshotSeconds, cpuSeconds, peak.value)
        return result
    }
}
