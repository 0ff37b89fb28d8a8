import Foundation

/// Shares the CPU between ingest and a snapshot's writer threads.
///
/// The writers run at idle priority (`SCHED_IDLE`), but on the hosts measured that alone does not
/// protect ingest: a background thread holding a CPU cost ingest throughput, the more the more
/// CPU it got, whatever its priority (docs/BENCHMARKS.md, session 13). So while the rest of
/// the daemon is busy — its other threads used at least `busyCores` over the last `window` — and
/// the host has no room to spare — fewer than `spareCores` would have been idle without the
/// writers — each writer is held to `busyShare` of one core by sleeping between units of work.
/// When the daemon is quiet (no load, a trickle, the final snapshot at shutdown), or the host has
/// cores ingest does not use, the writers run at full speed.
///
/// One per snapshot, shared by its writer threads. `pace(_:)` is called by a writer thread after
/// each unit of work (a compressed member or frame) with that thread's own `Meter`; it may sleep
/// the calling thread. `lock` guards the window accounting shared by the threads.
public final class SnapshotPacer: @unchecked Sendable {
    /// A writer thread's share of one core while the daemon is busy.
    public let busyShare: Double
    /// Cores the daemon's other threads must use over a window for it to count as busy.
    public let busyCores: Double
    /// Cores of the host that, had the writers not run, would have been idle over a window, at
    /// which the writers run at full speed even while the daemon is busy.
    public let spareCores: Double
    /// How often the daemon's load is re-measured, and the longest single sleep.
    static let window = 0.1

    private let hostIdleSeconds: @Sendable () -> Double?
    private let lock = NSLock()
    private var windowStart: (wall: Double, processCPU: Double, hostIdle: Double?)
    /// CPU the writers reported since `windowStart`.
    private var writersCPU = 0.0
    private var busy = false
    private var slept = 0.0

    /// - Parameters:
    ///   - busyShare: 0.12 keeps two writers at about a quarter of a core under load. Ingest kept
    ///     77–83 % (median 79 %) of its rate during 13M-touchpoint snapshots in five runs at 0.12,
    ///     78–82 % in three at 0.08 (67–77 % unpaced, 71 % at 0.2): below a quarter of a core
    ///     the loss no longer follows the writers' share (docs/BENCHMARKS.md, sessions 13–15).
    ///   - busyCores: by default a quarter of the host's cores.
    ///   - spareCores: by default 3, room for both writers and a core to spare; never reached on a
    ///     host of two cores.
    ///   - hostIdleSeconds: the host's idle core-seconds so far (`HostCPUTimes`); nil when unknown,
    ///     which counts as no room to spare.
    public init(
        busyShare: Double = 0.12, busyCores: Double = Double(ProcessInfo.processInfo.activeProcessorCount) / 4,
        spareCores: Double = 3, hostIdleSeconds: @escaping @Sendable () -> Double? = { HostCPUTimes.read()?.idle }
    ) {
        precondition(busyShare > 0 && busyShare <= 1)
        self.busyShare = busyShare
        self.busyCores = busyCores
        self.spareCores = spareCores
        self.hostIdleSeconds = hostIdleSeconds
        windowStart = (Self.wallClock(), Self.clock(CLOCK_PROCESS_CPUTIME_ID), hostIdleSeconds())
    }

    /// What one writer thread used since it started, or since the daemon was last quiet.
    public struct Meter {
        fileprivate var baseCPU: Double
        fileprivate var baseWall: Double
        /// Thread CPU already reported to the pacer.
        fileprivate var reportedCPU: Double

        /// Starts measuring the calling thread; a meter belongs to the thread that made it.
        public init() {
            let cpu = SnapshotPacer.clock(CLOCK_THREAD_CPUTIME_ID)
            baseCPU = cpu
            baseWall = SnapshotPacer.wallClock()
            reportedCPU = cpu
        }
    }

    /// Seconds the writers slept so far to leave the CPU to the rest of the daemon.
    public var sleptSeconds: Double { lock.withLock { slept } }

    /// Called by a writer thread after a unit of work: while the daemon is busy, sleeps until this
    /// thread's CPU since its meter's base is at most `busyShare` of the time passed. Returns the
    /// seconds slept.
    @discardableResult
    public func pace(_ meter: inout Meter) -> Double {
        var total = 0.0
        while true {
            let cpu = Self.clock(CLOCK_THREAD_CPUTIME_ID)
            let now = Self.wallClock()
            let busy = report(cpu - meter.reportedCPU, at: now)
            meter.reportedCPU = cpu
            guard busy else {
                meter.baseCPU = cpu
                meter.baseWall = now
                break
            }
            let due = (cpu - meter.baseCPU) / busyShare - (now - meter.baseWall)
            guard due > 0 else { break }
            let nap = min(due, Self.window)
            Self.sleep(nap)
            total += nap
        }
        if total > 0 { lock.withLock { slept += total } }
        return total
    }

    /// Adds a writer's CPU to the window and, once the window is over, decides whether the rest
    /// of the daemon is busy on a host without room to spare. Returns that decision.
    private func report(_ writerCPU: Double, at now: Double) -> Bool {
        lock.withLock {
            writersCPU += writerCPU
            let elapsed = now - windowStart.wall
            if elapsed >= Self.window {
                let processCPU = Self.clock(CLOCK_PROCESS_CPUTIME_ID)
                let hostIdle = hostIdleSeconds()
                let daemonCores = (processCPU - windowStart.processCPU - writersCPU) / elapsed
                let spare = hostIdle.flatMap { idle in windowStart.hostIdle.map { (idle - $0 + writersCPU) / elapsed } } ?? 0
                busy = daemonCores >= busyCores && spare < spareCores
                windowStart = (now, processCPU, hostIdle)
                writersCPU = 0
            }
            return busy
        }
    }

    /// Seconds on clock `id` (thread, process or monotonic), as a `Double`.
    static func clock(_ id: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(id, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    fileprivate static func wallClock() -> Double { clock(CLOCK_MONOTONIC) }

    private static func sleep(_ seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
