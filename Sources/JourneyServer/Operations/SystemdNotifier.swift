import Foundation

/// Tells systemd how the daemon is doing (sd_notify(3) without libsystemd): newline-separated
/// `KEY=value` fields in one datagram to the Unix socket named by `$NOTIFY_SOCKET` — a path, or an
/// abstract-namespace name written with a leading `@`. Without that variable every call does
/// nothing, so the daemon runs the same outside systemd.
///
/// Immutable and `Sendable`; each `send` opens a socket, sends, and closes it (a few messages a
/// minute, so no descriptor is held).
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    /// Half of `$WATCHDOG_USEC` (how often systemd wants `WATCHDOG=1`), when the watchdog is on.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        watchdogInterval = environment["WATCHDOG_USEC"].flatMap(UInt64.init).flatMap { $0 > 0 ? Duration.microseconds(Int64($0 / 2)) : nil }
    }

    public var isEnabled: Bool { socketPath != nil }

    /// Sends `fields` (e.g. `["READY=1", "STATUS=ready"]`); returns false if it could not be sent.
    @discardableResult
    public func send(_ fields: [String]) -> Bool {
        guard let socketPath else { return true }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(socketPath.utf8)
        if name.first == UInt8(ascii: "@") { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path.copyBytes(from: name)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // An abstract name is exactly its bytes; a path also counts its terminating NUL.
        let length = socklen_t(pathOffset + name.count + (name.first == 0 ? 0 : 1))
        let message = Array(fields.joined(separator: "\n").utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { bytes in
                    sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        return sent == message.count
    }

    /// `MONOTONIC_USEC=` for a `RELOADING=1` message: CLOCK_MONOTONIC in microseconds.
    public static var monotonicMicroseconds: String {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return "MONOTONIC_USEC=\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000)"
    }
}
