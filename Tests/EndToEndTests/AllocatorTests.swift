import Foundation
import Testing

/// journeyd links jemalloc as its `malloc` (docs/ARCHITECTURE.md, "Memory allocator") and says
/// so in its `starting` line, having checked that jemalloc really serves `malloc`.
@Suite struct AllocatorTests {
    @Test func theDaemonRunsOnJemallocAndSaysSo() async throws {
        let daemon = try await DaemonProcess.start(label: "allocator")
        let starting = try #require(
            daemon.log.split(separator: "\n").map { DaemonProcess.logfmtFields(String($0)) }.first { $0["msg"] == "starting" }, "\(daemon.log)")
        #expect(starting["allocator"] == "jemalloc", "\(starting)")
        #expect(starting["jemalloc_version"]?.hasPrefix("5.") == true, "\(starting)")
        #expect(await daemon.stop() == 0)
    }
}
