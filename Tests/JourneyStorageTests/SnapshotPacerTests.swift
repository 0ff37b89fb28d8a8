import Foundation
import Synchronization
import Testing

@testable import JourneyStorage

/// The pacer measures the daemon's load from its own process and thread CPU clocks, so these
/// tests make that load with real threads: a spinning thread is the busy daemon, a thread doing
/// units of work and calling `pace` is a snapshot writer.
@Suite struct SnapshotPacerTests {
    /// Burns about `seconds` of the calling thread's CPU.
    static func work(seconds: Double) {
        let end = SnapshotPacer.clock(CLOCK_THREAD_CPUTIME_ID) + seconds
        var sink: UInt64 = 0
        repeat {
            for value in 0..<10_000 { sink &+= UInt64(value) &* 31 }
        } while SnapshotPacer.clock(CLOCK_THREAD_CPUTIME_ID) < end
        precondition(sink != 1)
    }

    /// Runs a writer on its own thread for `seconds`: 2-ms units of work, each followed by
    /// `pace`. Returns the writer's CPU, the wall time, and what `pace` reported sleeping.
    static func runWriter(_ pacer: SnapshotPacer, seconds: Double) async -> (cpu: Double, wall: Double, slept: Double) {
        await withCheckedContinuation { continuation in
            Thread {
                var meter = SnapshotPacer.Meter()
                let start = ContinuousClock.now
                var slept = 0.0
                while ContinuousClock.now - start < .seconds(seconds) {
                    work(seconds: 0.002)
                    slept += pacer.pace(&meter)
                }
                let cpu = SnapshotPacer.clock(CLOCK_THREAD_CPUTIME_ID)
                let wall = ContinuousClock.now - start
                continuation.resume(returning: (cpu, Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18, slept))
            }.start()
        }
    }

    /// `runWriter` while another thread of the process spins: the rest of the daemon, busy.
    static func runWriterWhileBusy(_ pacer: SnapshotPacer, seconds: Double) async -> (cpu: Double, wall: Double, slept: Double) {
        let spinning = Atomic(true)
        let spinner = Thread {
            while spinning.load(ordering: .relaxed) { work(seconds: 0.001) }
        }
        spinner.start()
        defer { spinning.store(false, ordering: .relaxed) }
        return await runWriter(pacer, seconds: seconds)
    }

    @Test func aWriterIsHeldToItsShareWhileTheRestOfTheProcessIsBusy() async {
        // A host with no idle time: whatever cores it has, none is spare.
        let pacer = SnapshotPacer(busyShare: 0.1, busyCores: 0.3, hostIdleSeconds: { 0 })
        let writer = await Self.runWriterWhileBusy(pacer, seconds: 1.5)
        // The share holds after the first window (unpaced: the load is not measured yet), give or
        // take a unit of work. Unpaced, the writer would use most of a core; on a host so busy
        // that it gets less than its share anyway, the pacer has nothing to hold back.
        let allowed = pacer.busyShare * writer.wall + SnapshotPacer.window + 0.05
        #expect(writer.cpu <= allowed, "the writer used \(writer.cpu) s of CPU in \(writer.wall) s, slept \(writer.slept) s")
        #expect(abs(pacer.sleptSeconds - writer.slept) < 1e-9)
    }

    @Test func aWriterRunsFreelyWhileTheRestOfTheProcessIsBelowTheBusyMark() async {
        // No process on this host can use more cores than it has: the mark is never reached.
        let pacer = SnapshotPacer(busyShare: 0.2, busyCores: Double(ProcessInfo.processInfo.activeProcessorCount) + 1)
        let writer = await Self.runWriter(pacer, seconds: 0.5)
        #expect(writer.slept == 0)
        #expect(pacer.sleptSeconds == 0)
    }

    @Test func aWriterRunsFreelyWhileTheHostHasCoresToSpare() async {
        // The process is busy (a spinning thread), but the host reports eight idle cores.
        let pacer = SnapshotPacer(busyShare: 0.1, busyCores: 0.3, spareCores: 3, hostIdleSeconds: { 8 * SnapshotPacer.clock(CLOCK_MONOTONIC) })
        let writer = await Self.runWriterWhileBusy(pacer, seconds: 0.5)
        #expect(writer.slept == 0, "the writer slept \(writer.slept) s with eight cores to spare")
        #expect(pacer.sleptSeconds == 0)
    }

    @Test func theHostsCPUTimesAreReadFromProcStat() async throws {
        let line = "cpu  4705 150 1120 16250 520 0 34 7 0 0"
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        #expect(HostCPUTimes.parse(line[...]) == HostCPUTimes(idle: (16250 + 520) / ticks, busy: (4705 + 150 + 1120 + 0 + 34 + 7) / ticks))
        #expect(HostCPUTimes.parse("cpu0 1 2 3 4 5"[...]) == nil)
        #expect(HostCPUTimes.parse("intr 1 2 3 4 5"[...]) == nil)

        let first = try #require(HostCPUTimes.read())
        try await Task.sleep(for: .milliseconds(300))
        let second = try #require(HostCPUTimes.read())
        #expect(second.idle >= first.idle && second.busy >= first.busy)
        // The host's processors together counted at least some of the 0.3 s that passed.
        #expect(second.idle + second.busy - first.idle - first.busy > 0.1)
    }
}
