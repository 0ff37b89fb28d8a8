import Foundation
import Testing

/// The shipped unit file is valid for systemd and keeps its hardening (`systemd-analyze`).
@Suite struct SystemdUnitTests {
    /// The unit with its binary path pointed at the journeyd this test run built.
    private func unitForThisBuild() throws -> String {
        let unit = try String(contentsOfFile: TestEnvironment.repositoryRoot + "/systemd/journeyd.service", encoding: .utf8)
        let directory = TestEnvironment.temporaryDirectory("unit")
        let path = directory + "/journeyd.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/journeyd", with: TestEnvironment.journeydBinary)
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theUnitPassesSystemdAnalyzeVerify() throws {
        let unit = try unitForThisBuild()
        defer { try? FileManager.default.removeItem(atPath: (unit as NSString).deletingLastPathComponent) }
        let verify = try CommandRun.run("/usr/bin/systemd-analyze", ["verify", unit])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(!verify.stderr.contains("journeyd.service"), "warnings about the unit: \(verify.stderr)")
    }

    @Test func theUnitKeepsItsHardening() throws {
        let unit = try unitForThisBuild()
        defer { try? FileManager.default.removeItem(atPath: (unit as NSString).deletingLastPathComponent) }
        let security = try CommandRun.run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--threshold=20", unit])
        #expect(security.status == 0, "exposure above 2.0:\n\(security.stdout)\(security.stderr)")
        let sysusers = try String(contentsOfFile: TestEnvironment.repositoryRoot + "/systemd/journeyd.sysusers", encoding: .utf8)
        #expect(sysusers.contains("u journeyd -"))
    }
}
