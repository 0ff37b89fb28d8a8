import Foundation

/// The host's CPU time since boot, summed over all processors, from the first line of
/// `/proc/stat`. A value; read it twice and subtract to see how busy the host was in between.
public struct HostCPUTimes: Sendable, Equatable {
    /// Core-seconds the processors spent idle or waiting for I/O.
    public var idle: Double
    /// Core-seconds spent on anything else: user, nice, system, interrupts, and time the
    /// hypervisor gave to other guests (steal).
    public var busy: Double

    public init(idle: Double, busy: Double) {
        self.idle = idle
        self.busy = busy
    }

    /// The current times, or nil where `/proc/stat` cannot be read or parsed.
    public static func read() -> HostCPUTimes? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n", maxSplits: 1).first
        else { return nil }
        return parse(line)
    }

    /// Parses the aggregate `cpu` line: user nice system idle iowait irq softirq steal, in clock
    /// ticks (guest time is already counted in user and nice).
    static func parse(_ line: Substring) -> HostCPUTimes? {
        let fields = line.split(separator: " ")
        guard fields.first == "cpu" else { return nil }
        let ticks = fields.dropFirst().prefix(8).compactMap { Double($0) }
        guard ticks.count >= 5 else { return nil }
        let perSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let idle = ticks[3] + ticks[4]
        return HostCPUTimes(idle: idle / perSecond, busy: (ticks.reduce(0, +) - idle) / perSecond)
    }
}
