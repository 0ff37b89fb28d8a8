import Foundation
import JourneyStorage

#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time.
enum BenchClock {
    static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func seconds(since start: UInt64) -> Double {
        Double(nanoseconds() - start) / 1e9
    }
}

/// CPU of this or another process, from /proc (Linux only); memory is `ProcessMemory`.
enum ProcessStats {
    /// User + system CPU seconds the process has used (/proc/<pid>/stat fields 14 and 15).
    static func cpuSeconds(pid: Int32? = nil) -> Double? {
        let path = pid.map { "/proc/\($0)/stat" } ?? "/proc/self/stat"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after "comm)": state is field 3, so utime (14) and stime (15) are at 11 and 12.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Returns free heap memory to the kernel so RSS reflects live data (glibc `malloc_trim`).
    static func trimHeap() {
        // Not exported by the Glibc module; looked up once (RTLD_DEFAULT is a null handle on glibc).
        typealias MallocTrim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(nil, "malloc_trim") {
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        }
    }

    static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// The 1-minute load average.
    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
    }
}

/// Accumulates `InterferenceProbe` readings over several timed windows (the stitcher's chunks).
struct InterferenceMeter {
    private var foreignSeconds = 0.0
    private var wallSeconds = 0.0
    private var probe: InterferenceProbe?

    mutating func begin() {
        probe = InterferenceProbe()
    }

    mutating func end() {
        guard let probe, let cores = probe.foreignCores() else { return }
        let wall = probe.elapsedSeconds
        foreignSeconds += cores * wall
        wallSeconds += wall
        self.probe = nil
    }

    var foreignCores: Double? { wallSeconds > 0 ? foreignSeconds / wallSeconds : nil }
}

/// How much CPU processes other than the ones measured used during a measurement; a benchmark
/// on a busy machine is flagged in the notes instead of being silently wrong.
struct InterferenceProbe {
    private let start = BenchClock.nanoseconds()
    private let machineStart = HostCPUTimes.read()?.busy
    private let ownStart = ProcessStats.cpuSeconds()

    var elapsedSeconds: Double { BenchClock.seconds(since: start) }

    /// Average number of cores used by everything except this process and `others` (pid → CPU
    /// seconds used by it during the measurement).
    func foreignCores(excludingCPUSeconds excluded: Double = 0) -> Double? {
        guard let machineStart, let ownStart, let machine = HostCPUTimes.read()?.busy, let own = ProcessStats.cpuSeconds() else {
            return nil
        }
        let wall = BenchClock.seconds(since: start)
        return max(0, (machine - machineStart) - (own - ownStart) - excluded) / wall
    }
}

/// Human-readable numbers.
enum Format {
    static func number(_ value: Double, decimals: Int = 0) -> String {
        let rounded = String(format: "%.\(decimals)f", value)
        // Thousands separators on the integer part.
        let parts = rounded.split(separator: ".", maxSplits: 1)
        var integer = String(parts[0])
        let negative = integer.hasPrefix("-")
        if negative { integer.removeFirst() }
        var grouped = ""
        for (index, character) in integer.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        let head = (negative ? "-" : "") + String(grouped.reversed())
        return parts.count > 1 ? head + "." + parts[1] : head
    }

    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var value = value
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: unit == 0 ? "%.0f" : "%.1f", value) + " " + units[unit]
    }

    static func milliseconds(nanoseconds: UInt64) -> String {
        String(format: "%.2f ms", Double(nanoseconds) / 1e6)
    }
}

enum Percentile {
    /// The nearest-rank `quantile` (0…1) of ascending `sorted` values; 0 when there are none.
    static func of(_ sorted: [UInt64], _ quantile: Double) -> UInt64 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((quantile * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(sorted.count - 1, max(0, rank))]
    }
}
