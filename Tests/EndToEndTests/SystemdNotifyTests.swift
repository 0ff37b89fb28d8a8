import Foundation
import Testing

/// The daemon talks to systemd over `$NOTIFY_SOCKET` (sd_notify without libsystemd): a real
/// datagram socket stands in for systemd, bound to a path and to an abstract-namespace name.
@Suite struct SystemdNotifyTests {
    @Test(arguments: ["path", "abstract"])
    func readyWatchdogReloadAndStoppingReachSystemd(kind: String) async throws {
        let name = kind == "path"
            ? NSTemporaryDirectory() + "journeyd-notify-\(UUID().uuidString.prefix(8)).sock"
            : "@journeyd-notify-\(UUID().uuidString.prefix(8))"
        let systemd = try NotifySocket(name: name)
        let daemon = try await DaemonProcess.start(
            label: "notify-\(kind)", environment: ["NOTIFY_SOCKET": name, "WATCHDOG_USEC": "1000000"])
        let ready = try #require(systemd.messages(until: "READY=1"), "no READY=1")
        #expect(ready.first?.contains("STATUS=starting") == true, "\(ready)")
        #expect(ready.last?.contains("STATUS=ready") == true, "\(ready)")

        let watchdog = try #require(systemd.messages(until: "WATCHDOG=1", timeout: .seconds(5)), "no WATCHDOG=1 within 5 s")
        #expect(watchdog.last?.contains("STATUS=ready: ") == true, "\(watchdog)")
        #expect(watchdog.last?.contains("profiles") == true, "\(watchdog)")

        daemon.signal(SIGHUP)
        let reload = try #require(systemd.messages(until: "READY=1"), "no READY=1 after the reload")
        let reloading = try #require(reload.first { $0.contains("RELOADING=1") }, "\(reload)")
        let monotonic = reloading.split(separator: "\n").first { $0.hasPrefix("MONOTONIC_USEC=") }
        #expect(monotonic.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) } != nil, "\(reloading)")

        let stopping = Task.detached { systemd.messages(until: "STOPPING=1") }
        #expect(await daemon.stop() == 0)
        #expect(await stopping.value != nil, "no STOPPING=1")
    }
}
