import Foundation
import Testing

/// `journeyd --check-config`: 0 for a usable file, 78 naming the bad key otherwise.
@Suite struct CheckConfigTests {
    static func journeyd(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandRun {
        try CommandRun.run(TestEnvironment.journeydBinary, arguments, environment: environment)
    }

    /// A temp dir with certificates, a token file and a key file, plus a valid config using them.
    /// `replacing` swaps whole top-level sections (keyed by their first line) for other text.
    static func workspace(replacing replacements: [String: String] = [:]) throws -> (directory: String, config: String) {
        let directory = TestEnvironment.temporaryDirectory("check")
        let certificates = try TestEnvironment.Certificates.generate(in: directory + "/tls")
        try "  admin-token-0123456789abcdef\n".write(toFile: directory + "/admin.token", atomically: true, encoding: .utf8)
        try "cc-secret-key\n".write(toFile: directory + "/cc.key", atomically: true, encoding: .utf8)
        let sections: [(String, String)] = [
            ("state_dir", "state_dir: \(directory)/state"),
            ("tls", "tls:\n  certificate: \(certificates.serverCertificate)\n  private_key: \(certificates.serverKey)"),
            ("listeners", "listeners:\n  admin: { address: \"127.0.0.1:9090\", token_file: \(directory)/admin.token }"),
            ("sources", """
                sources:
                  - { name: website, channel: web, write_key: "web-key" }
                  - { name: call-centre, channel: call_center, write_key_file: \(directory)/cc.key }
                """),
            ("identity", "identity:\n  limits: { user_id: 1, email: 3 }\n  custom: [{ type: loyalty_id, paths: [traits.loyaltyId] }]"),
            ("phases", "phases:\n  - { phase: ask, channel: call_center }"),
        ]
        var lines = sections.map { name, text in
            replacements[name].map { $0.replacingOccurrences(of: "TOKEN_FILE", with: directory + "/admin.token") } ?? text
        }
        for (name, text) in replacements where !sections.contains(where: { $0.0 == name }) { lines.append(text) }
        return (directory, lines.joined(separator: "\n") + "\n")
    }

    @Test func aValidConfigPasses() throws {
        let (directory, config) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try config.write(toFile: directory + "/ok.yaml", atomically: true, encoding: .utf8)
        let run = try Self.journeyd(["--check-config", "--config", directory + "/ok.yaml"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test(arguments: [
        ("listeners", "listeners:\n  htp: { address: \"127.0.0.1:1\" }\n  admin: { token_file: TOKEN_FILE }", "listeners.htp"),
        ("listeners", "listeners:\n  http: { address: \"localhost\" }\n  admin: { token_file: TOKEN_FILE }", "listeners.http.address"),
        ("durability", "durability: sometimes", "durability"),
        ("limits", "limits: { event_bytes: lots }", "limits.event_bytes"),
        ("identity", "identity:\n  limits: { shoe_size: 2 }", "identity.limits.shoe_size"),
        ("identity", "identity:\n  priority: [email, fingerprint]", "identity.priority"),
        ("phases", "phases:\n  - { phase: delight, event: Foo }", "phases[0].phase"),
        ("sources", "sources:\n  - { name: web, channel: web }", "sources[0].write_key"),
        ("snapshots", "snapshots: { interval: often }", "snapshots.interval"),
        ("colour", "colour: blue", "colour"),
    ])
    func aBadKeyIsNamedWithExitCode78(section: String, replacement: String, key: String) throws {
        let (directory, config) = try Self.workspace(replacing: [section: replacement])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try config.write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let run = try Self.journeyd(["--check-config", "--config", directory + "/bad.yaml"])
        #expect(run.status == 78)
        #expect(run.stderr.contains(key), "stderr should name \(key): \(run.stderr)")
    }

    @Test func missingFilesAreNamed() throws {
        let (directory, config) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broken = config.replacingOccurrences(of: directory + "/cc.key", with: directory + "/missing.key")
        try broken.write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let run = try Self.journeyd(["--check-config", "--config", directory + "/bad.yaml"])
        #expect(run.status == 78)
        #expect(run.stderr.contains("sources[1].write_key_file"), "\(run.stderr)")
        let absent = try Self.journeyd(["--check-config", "--config", directory + "/absent.yaml"])
        #expect(absent.status == 78)
        #expect(absent.stderr.contains("absent.yaml"))
        let noCertificate = config.replacingOccurrences(of: directory + "/tls/server.crt", with: directory + "/tls/nothing.crt")
        try noCertificate.write(toFile: directory + "/nocert.yaml", atomically: true, encoding: .utf8)
        let certificate = try Self.journeyd(["--check-config", "--config", directory + "/nocert.yaml"])
        #expect(certificate.status == 78)
        #expect(certificate.stderr.contains("tls.certificate"), "\(certificate.stderr)")
    }

    @Test func theSampleConfigInTheRepositoryIsValid() throws {
        let (directory, _) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The sample points at /etc/journeyd; environment overrides redirect its files here.
        let run = try Self.journeyd(
            ["--check-config", "--config", TestEnvironment.repositoryRoot + "/config/journeyd.yaml"],
            environment: [
                "JOURNEYD_TLS__CERTIFICATE": directory + "/tls/server.crt",
                "JOURNEYD_TLS__PRIVATE_KEY": directory + "/tls/server.key",
                "JOURNEYD_TLS__CLIENT_CA": directory + "/tls/ca.crt",
                "JOURNEYD_LISTENERS__ADMIN__TOKEN_FILE": directory + "/admin.token",
                "JOURNEYD_STATE_DIR": directory + "/state",
            ])
        #expect(run.status == 0, "\(run.stderr)")
    }
}

/// `journeyctl phases test`: which rule a sample event hits, with the config's rules first.
@Suite struct PhasesTestCommandTests {
    static func journeyctl(_ arguments: [String]) throws -> CommandRun {
        try CommandRun.run(TestEnvironment.builtProduct("journeyctl"), arguments)
    }

    @Test func sampleEventsShowTheRuleThatDecidedTheirPhase() throws {
        let rules = """
            phases:
              - { phase: buy, event: "Subscription *", properties: { plan: { in: [pro, team] }, seats: { gte: 2 } } }
              - { phase: engage, channel: call_center, type: identify }
            """
        let (directory, config) = try CheckConfigTests.workspace(replacing: ["phases": rules])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try config.write(toFile: directory + "/phases.yaml", atomically: true, encoding: .utf8)

        let subscription = #"{"type":"track","event":"Subscription Renewed","properties":{"plan":"team","seats":5}}"#
        let run = try Self.journeyctl(["phases", "test", "--config", directory + "/phases.yaml", subscription])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(#"track "Subscription Renewed" on web: buy  (config rule 1 of 2"#), "\(run.stdout)")

        // Several events on standard input, the channel taken from a source of the config.
        let input = [
            #"{"type":"identify","userId":"u","traits":{}}"#,
            #"{"type":"track","event":"Subscription Renewed","properties":{"plan":"free"}}"#,
            #"{"type":"track","event":"Order Completed"}"#,
        ].joined(separator: "\n")
        try input.write(toFile: directory + "/events.jsonl", atomically: true, encoding: .utf8)
        let piped = try CommandRun.run(
            "/bin/sh", ["-c", "\(TestEnvironment.builtProduct("journeyctl")) phases test --config \(directory)/phases.yaml --source call-centre < \(directory)/events.jsonl"])
        #expect(piped.status == 0, "\(piped.stderr)")
        let lines = piped.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("identify on call_center: engage  (config rule 2 of 2"))
        #expect(lines[1].hasPrefix(#"track "Subscription Renewed" on call_center: ask  (built-in rule"#), "\(lines[1])")
        #expect(lines[2].hasPrefix(#"track "Order Completed" on call_center: buy  (built-in rule"#), "\(lines[2])")

        // Without a config: the built-in table; a page on the web is explore; an event it cannot read fails the run.
        let builtIn = try Self.journeyctl(["phases", "test", #"{"type":"page","name":"Home"}"#])
        #expect(builtIn.stdout.hasPrefix(#"page "Home" on web: explore  (built-in rule"#), "\(builtIn.stdout)")
        let unknown = try Self.journeyctl(["phases", "test", #"{"type":"track","event":"Something Else"}"#])
        #expect(unknown.stdout.contains("no phase (no rule matches)"))
        let broken = try Self.journeyctl(["phases", "test", #"{"type":"track"}"#])
        #expect(broken.status == 1 && broken.stderr.contains("track call needs"), "\(broken.stderr)")
    }
}
