import Foundation

/// Memory of this or another process, from /proc (Linux only). Stateless.
public enum ProcessMemory {
    /// Resident set size in bytes (`VmRSS` of /proc/<pid>/status), or nil when unreadable.
    public static func residentBytes(pid: Int32? = nil) -> Int? {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}
