import Foundation

/// The host's CPU time since boot, summed over all processors, from the first line of
/// `/proc/stat`. A value; read it twice and subtract to see how busy the host was in between.
public struct HostCPUTimes: Sendable, Equatable {
    /// Core-seconds the processors spent idle or waiting for I/O.
    public var idle: Double
    /// Core-seconds spent on anything else: user, nice, system, interrupts, and time the
    /// hypervisor gave to other guests (steal).
    public var busy: Double

    /// The current times, or nil where `/proc/stat` cannot be read or parsed. Reads only the
    /// aggregate first line (under 256 bytes), not the per-processor and interrupt lines after
    /// it, which run to kilobytes on large hosts: the snapshot pacer calls this ten times a second.
    public static func read() -> HostCPUTimes? {
        let fd = open("/proc/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
        guard count > 0, let end = buffer[..<count].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return parse(String(decoding: buffer[..<end], as: UTF8.self)[...])
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
