import Foundation
import Testing

/// journeyd links jemalloc as its `malloc` (docs/ARCHITECTURE.md, "Memory allocator") and says
/// so in its `starting` line, having checked that jemalloc really serves `malloc`.
@Suite struct AllocatorTests {
    @Test func theDaemonRunsOnJemallocAndSaysSo() async throws {
        let daemon = try await DaemonProcess.start(label: "allocator")
        let starting = try Self.startingLine(of: daemon)
        #expect(starting["allocator"] == "jemalloc", "\(starting)")
        #expect(starting["jemalloc_version"]?.hasPrefix("5.") == true, "\(starting)")
        #expect(await daemon.stop() == 0)
    }

    /// With another allocator preloaded (tcmalloc, which `scripts/install-test-deps.sh` installs),
    /// jemalloc is still linked and answers `mallctl`, but the probe allocation does not reach it:
    /// the daemon must say `allocator=other` and still take and serve events.
    @Test func aPreloadedAllocatorIsReportedAsOther() async throws {
        let tcmalloc = try #require(
            ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"].map { $0 + "/libtcmalloc_minimal.so.4" }
                .first { FileManager.default.fileExists(atPath: $0) },
            "libtcmalloc_minimal.so.4 is missing: run scripts/install-test-deps.sh")
        let daemon = try await DaemonProcess.start(label: "allocator-other", environment: ["LD_PRELOAD": tcmalloc])
        do {
            let starting = try Self.startingLine(of: daemon)
            #expect(starting["allocator"] == "other", "\(starting)")
            #expect(starting["jemalloc_version"] == nil, "\(starting)")
            let client = try TrackingClient(daemon: daemon)
            let stored = try await client.post("/v1/track", Events.track("Allocator Checked", userId: "allocator-user"))
            #expect(stored.status == 200, "\(stored.text)")
            let profile = try await client.admin("/v1/profiles?type=user_id&value=allocator-user")
            #expect(profile.status == 200, "\(profile.text)")
            try await client.shutdown()
        } catch {
            await daemon.stop()
            throw error
        }
        #expect(await daemon.stop() == 0)
    }

    private static func startingLine(of daemon: DaemonProcess) throws -> [String: String] {
        try #require(
            daemon.log.split(separator: "\n").map { DaemonProcess.logfmtFields(String($0)) }.first { $0["msg"] == "starting" }, "\(daemon.log)")
    }
}
