import Foundation
import NIOCore
import NIOPosix
import Testing

/// SIGHUP re-reads the config file the daemon was started with: a good one is put in force
/// (sources and keys, admin token, limits, log level; moved listeners are bound anew), a bad one
/// is refused whole, and settings that need a restart keep their value with a warning.
@Suite struct ConfigReloadTests {
    static let reloaded = "msg=\"config reloaded\""
    static let refused = "msg=\"config reload refused; the previous configuration stays in force\""
    static let kioskKey = "test-write-key-kiosk"
    static let newAdminToken = "rotated-admin-token-9876543210"

    static func batch(_ count: Int) -> String {
        Events.batch((0..<count).map { Events.track("Reloaded", userId: "reload-\($0)") })
    }

    /// The `app` source (mobile write key) is replaced by a `kiosk` source with a new key.
    static func replacingAppWithKiosk(_ config: String) -> String {
        config.replacingOccurrences(
            of: "- { name: app, channel: mobile, write_key: \(DaemonProcess.mobileWriteKey) }",
            with: "- { name: kiosk, channel: store, write_key: \(kioskKey) }")
    }

    /// A loopback port nobody listens on right now.
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    /// Whether a TCP connection to `address` (`host:port`) is accepted (refused or failed: false).
    static func accepts(_ address: String) async -> Bool {
        let parts = address.split(separator: ":")
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: String(parts[0]), port: Int(parts[1])!).get()
            try await channel.close()
            return true
        } catch {
            return false
        }
    }

    @Test func keysAdminTokenAndLimitsFromTheReloadedFileTakeEffect() async throws {
        try await withDaemon("reload-keys") { daemon, client async throws in
            #expect(try await client.post("/v1/batch", Self.batch(1), writeKey: Self.kioskKey).status == 401)
            #expect(try await client.post("/v1/batch", Self.batch(1), writeKey: DaemonProcess.mobileWriteKey).status == 200)
            #expect(try await client.post("/v1/batch", Self.batch(3)).status == 200)
            let keyed = try await StreamClient.connect(to: daemon)
            try await keyed.send(lines: ["{\"writeKey\":\"\(DaemonProcess.streamWriteKey)\"}", Events.track("Till", userId: "pos-1")])
            _ = try await keyed.linesUntilAck(1)

            try Self.newAdminToken.write(toFile: daemon.directory + "/admin.token", atomically: true, encoding: .utf8)
            try daemon.editConfig {
                Self.replacingAppWithKiosk($0).replacingOccurrences(
                    of: "- { name: pos, channel: store, write_key: \(DaemonProcess.streamWriteKey), stream_write_key: true }", with: "")
                    + "\nlimits: { batch_events: 2 }\n"
            }
            daemon.signal(SIGHUP)
            try #require(await daemon.waitForLog(Self.reloaded))

            #expect(try await client.post("/v1/batch", Self.batch(1), writeKey: Self.kioskKey).status == 200, "the added key is accepted")
            let removed = try await client.post("/v1/batch", Self.batch(1), writeKey: DaemonProcess.mobileWriteKey)
            #expect(removed.status == 401, "the removed key is refused: \(removed.text)")
            #expect(try await client.post("/v1/batch", Self.batch(1)).status == 200, "an unchanged key still works")
            #expect(try await client.post("/v1/batch", Self.batch(3)).status == 413, "limits.batch_events is now 2")
            #expect(try await client.admin("/v1/stats").status == 401, "the old admin token is refused")
            #expect(try await client.admin("/v1/stats", token: Self.newAdminToken).status == 200)

            // The stream connection keeps the source it authenticated with; a new one cannot use it.
            try await keyed.send(lines: [Events.track("Till", userId: "pos-2")])
            _ = try await keyed.linesUntilAck(2)
            await keyed.close()
            let late = try await StreamClient.connect(to: daemon)
            try? await late.send(lines: ["{\"writeKey\":\"\(DaemonProcess.streamWriteKey)\"}", Events.track("Till", userId: "pos-3")])
            #expect(await late.waitForClose(timeout: .seconds(10)), "the removed source's key no longer opens a stream")
            #expect(late.latestAckReceived == 0)

            let line = try #require(daemon.log.split(separator: "\n").first { $0.contains(Self.reloaded) })
            let fields = DaemonProcess.logfmtFields(String(line))
            #expect(fields["level"] == "info")
            #expect(fields["changed"] == "listeners.admin.token,sources,limits.batch_events", "\(line)")
            #expect(fields["sources_added"] == "kiosk" && fields["sources_removed"] == "app,pos", "\(line)")
            #expect(fields["restart_needed"] == nil, "\(line)")
            #expect(!daemon.log.contains(Self.kioskKey) && !daemon.log.contains(Self.newAdminToken), "no secret in the log")
        }
    }

    @Test func aBadConfigIsRefusedWholeAndTheOldOneStaysInForce() async throws {
        try await withDaemon("reload-refused") { daemon, client async throws in
            let original = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
            let broken: [(String, String)] = [
                ("not YAML", Self.replacingAppWithKiosk(original) + "\nsources: [ {\n"),
                ("invalid value", Self.replacingAppWithKiosk(original) + "\nlimits: { batch_events: lots }\n"),
                ("TLS key missing", Self.replacingAppWithKiosk(original).replacingOccurrences(of: "server.key", with: "missing.key")),
            ]
            let expectedErrors = ["not valid YAML", "limits.batch_events", "tls.private_key"]
            for (index, (name, text)) in broken.enumerated() {
                try text.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
                daemon.signal(SIGHUP)
                try #require(await daemon.waitForLog(Self.refused, count: index + 1), "\(name)")
                let line = try #require(daemon.log.split(separator: "\n").last { $0.contains(Self.refused) })
                #expect(line.contains("level=error") && line.contains("error=") && line.contains(expectedErrors[index]), "\(name): \(line)")
                #expect(try await client.post("/v1/batch", Self.batch(1), writeKey: Self.kioskKey).status == 401, "\(name): nothing applied")
                #expect(try await client.post("/v1/batch", Self.batch(1), writeKey: DaemonProcess.mobileWriteKey).status == 200, "\(name)")
                #expect(try await client.post("/v1/batch", Self.batch(1)).status == 200, "\(name)")
            }
            #expect(daemon.logLines(containing: Self.reloaded) == 0)
            #expect(daemon.isRunning)
        }
    }

    @Test func aMovedListenerAnswersOnItsNewAddressWhileTheOthersKeepTheirConnections() async throws {
        try await withDaemon("reload-move") { daemon, client async throws in
            let stream = try await StreamClient.connect(to: daemon, certificate: try StreamTests.clientCertificate(daemon))
            try await stream.send(lines: [Events.track("Before move", userId: "mover")])
            _ = try await stream.linesUntilAck(1)

            let port = try await Self.freePort()
            let moved = "127.0.0.1:\(port)"
            try daemon.editConfig { $0.replacingOccurrences(of: "http: { address: \"127.0.0.1:0\" }", with: "http: { address: \"\(moved)\" }") }
            daemon.signal(SIGHUP)
            try #require(await daemon.waitForLog(Self.reloaded))
            let listening = daemon.log.split(separator: "\n").map { DaemonProcess.logfmtFields(String($0)) }.filter { $0["msg"] == "listening" }
            #expect(listening.contains { $0["listener"] == "http" && $0["address"] == moved }, "\(daemon.log)")

            let movedClient = try TrackingClient(daemon: daemon, httpAddress: moved)
            #expect(try await movedClient.post("/v1/batch", Self.batch(1)).status == 200)
            try await movedClient.shutdown()
            let deadline = ContinuousClock.now + .seconds(10)
            while await Self.accepts(daemon.httpAddress), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(await !Self.accepts(daemon.httpAddress), "the old HTTPS address stopped listening")

            // The stream listener did not move: its connection opened before the reload goes on.
            try await stream.send(lines: [Events.track("After move", userId: "mover")])
            _ = try await stream.linesUntilAck(2)
            #expect(!stream.isClosed)

            // A listener that cannot be bound (the address is taken) refuses the whole reload.
            try daemon.editConfig {
                Self.replacingAppWithKiosk($0).replacingOccurrences(
                    of: "admin: { address: \"127.0.0.1:0\"", with: "admin: { address: \"\(daemon.streamAddress)\"")
            }
            daemon.signal(SIGHUP)
            try #require(await daemon.waitForLog(Self.refused))
            #expect(daemon.log.contains("listeners.admin.address: cannot listen on \(daemon.streamAddress)"), "\(daemon.log)")
            #expect(try await client.admin("/v1/stats").status == 200, "the admin listener stays where it was")
            let stillMoved = try TrackingClient(daemon: daemon, httpAddress: moved)
            #expect(try await stillMoved.post("/v1/batch", Self.batch(1), writeKey: Self.kioskKey).status == 401, "nothing else was applied")
            try await stillMoved.shutdown()
            try await stream.send(lines: [Events.track("After refusal", userId: "mover")])
            _ = try await stream.linesUntilAck(3)
            await stream.close()
        }
    }

    @Test func settingsThatNeedARestartKeepTheirValueWithAWarning() async throws {
        try await withDaemon("reload-restart") { daemon, client async throws in
            try daemon.editConfig { $0 + "\ndurability: none\nlimits: { max_connections: 1 }\nlogging: { level: warning }\n" }
            daemon.signal(SIGHUP)
            for key in ["durability", "limits.max_connections"] {
                try #require(await daemon.waitForLog("level=warning component=reload msg=\"changed setting needs a restart\" key=\(key)"))
            }
            #expect(daemon.logLines(containing: "needs a restart") == 2, "\(daemon.log)")

            // max_connections stays at its running value: two stream clients are served at once.
            let certificate = try StreamTests.clientCertificate(daemon)
            let first = try await StreamClient.connect(to: daemon, certificate: certificate)
            let second = try await StreamClient.connect(to: daemon, certificate: certificate)
            try await first.send(lines: [Events.track("One", userId: "restart-1")])
            try await second.send(lines: [Events.track("Two", userId: "restart-2")])
            _ = try await first.linesUntilAck(1, timeout: .seconds(10))
            _ = try await second.linesUntilAck(1, timeout: .seconds(10))
            await first.close()
            await second.close()

            // logging.level applies at once: a refused request (notice) is no longer written.
            #expect(try await client.post("/v1/batch", Self.batch(1), writeKey: "nobody").status == 401)
            try await Task.sleep(for: .milliseconds(300))
            #expect(!daemon.log.contains("msg=\"request refused\""), "\(daemon.log)")
        }
    }
}
