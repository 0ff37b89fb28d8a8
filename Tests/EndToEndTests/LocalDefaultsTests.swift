import Foundation
import JourneyServer
import Testing

/// `journeyd` with no config: loopback listeners, state under the working directory, a dev
/// certificate whose fingerprint is printed, and a banner whose curl example works.
@Suite struct LocalDefaultsTests {
    @Test func startsOnSafeDefaultsAndPrintsAWorkingExample() async throws {
        let directory = TestEnvironment.temporaryDirectory("local")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.journeydBinary)
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        // Port 0 so the test cannot collide with a developer's running daemon; everything else is the default.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("JOURNEYD_") }.merging([
            "JOURNEYD_LISTENERS__HTTP__ADDRESS": "127.0.0.1:0", "JOURNEYD_LISTENERS__ADMIN__ADDRESS": "127.0.0.1:0",
        ]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() }; process.waitUntilExit() }

        var banner = ""
        let deadline = ContinuousClock.now + .seconds(60)
        while !banner.contains("Authorization: Bearer"), ContinuousClock.now < deadline, process.isRunning {
            banner += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        }
        let state = directory + "/journeyd-state"
        let certificate = try String(contentsOfFile: state + "/tls/server.crt", encoding: .utf8)
        #expect(banner.contains(try CertificateFactory.fingerprint(certificatePEM: certificate)))
        let writeKey = try String(contentsOfFile: state + "/dev/write.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let token = try String(contentsOfFile: state + "/dev/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(banner.contains(writeKey))
        let keyMode = try FileManager.default.attributesOfItem(atPath: state + "/dev/write.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        // Run the banner's own commands, as a newcomer would paste them.
        let commands = banner.components(separatedBy: "\n").filter { $0.contains("curl") || $0.contains("-H 'Content-Type") }
            .joined(separator: "\n").replacingOccurrences(of: "\\\n", with: " ")
        let curls = commands.components(separatedBy: "\n").filter { $0.contains("curl") }
        #expect(curls.count == 2, "\(banner)")
        for command in curls {
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", command + " -sS --fail -o " + directory + "/curl.out"]
            shell.currentDirectoryURL = URL(fileURLWithPath: directory)
            try shell.run()
            shell.waitUntilExit()
            #expect(shell.terminationStatus == 0, "failed: \(command)")
        }
        let profile = try String(contentsOfFile: directory + "/curl.out", encoding: .utf8)
        #expect(profile.contains("\"event\":\"Product Viewed\""), "\(profile)")
        #expect(profile.contains(token) == false)
        #expect(banner.contains("127.0.0.1:"))
    }
}
