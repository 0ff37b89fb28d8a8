import JourneyCore
import Testing

@testable import JourneyServer

/// What a SIGHUP reload puts in force: live settings from the new file, restart-only settings
/// kept (and named), listeners to move; and the holder requests and connections read it from.
@Suite struct ReloadPlanTests {
    @Test func anUnchangedFileChangesNothing() throws {
        let fixture = try ConfigFixture()
        let running = try fixture.load(ConfigText.base)
        let plan = ReloadPlan(running: running, loaded: try fixture.load(ConfigText.base))
        #expect(plan.applied.isEmpty && plan.needsRestart.isEmpty && plan.moves.isEmpty)
        #expect(plan.sourcesAdded.isEmpty && plan.sourcesRemoved.isEmpty && plan.sourcesChanged.isEmpty)
    }

    @Test func liveSettingsAreTakenAndRestartOnlySettingsKeepTheirRunningValue() throws {
        let fixture = try ConfigFixture()
        let running = try fixture.load(ConfigText.base)
        let loaded = try fixture.load(
            ConfigText.with(
                [
                    "SOURCES": "- { name: kiosk, channel: store, write_key: key-two }",
                    "LIMITS": "batch_events: 10\nmax_connections: 5",
                    "LOGGING": "level: debug",
                    "IDENTITY": "blocklist: [\"nobody\"]",
                    "PHASE": "channel: web",
                    "TOP": "durability: none",
                ],
                replacing: [
                    "state_dir": "state_dir: /srv/elsewhere",
                    "    address": "address: \"127.0.0.1:8444\"",
                    "    write_key": "write_key: key-rotated",
                    "  interval": "interval: 1h",
                    "  format": "format: json",
                ]))
        let plan = ReloadPlan(running: running, loaded: loaded)

        #expect(plan.applied == ["listeners.http.address", "listeners.stream.address", "listeners.admin.address", "sources", "limits.batch_events", "logging.level"])
        #expect(
            plan.needsRestart == [
                "state_dir", "durability", "snapshots.interval", "identity.blocklist", "phases", "limits.max_connections", "logging.format",
            ])
        #expect(plan.moves.map(\.listener) == [.http, .stream, .admin])
        #expect(plan.moves.allSatisfy { $0.address == ListenAddress(host: "127.0.0.1", port: 8444) })
        #expect(plan.sourcesAdded == ["kiosk"] && plan.sourcesRemoved.isEmpty && plan.sourcesChanged == ["website"])

        let inForce = plan.inForce
        #expect(inForce.listeners.http.port == 8444)
        #expect(inForce.source(forWriteKey: "key-rotated")?.name == "website")
        #expect(inForce.source(forWriteKey: "key-one") == nil)
        #expect(inForce.source(forWriteKey: "key-two")?.name == "kiosk")
        #expect(inForce.limits.batchEvents == 10)
        #expect(inForce.logging.level == .debug)
        #expect(inForce.stateDirectory == running.stateDirectory)
        #expect(inForce.durability == .fsync)
        #expect(inForce.snapshots == running.snapshots)
        #expect(inForce.identifierRules == running.identifierRules)
        #expect(inForce.phaseRules.rules == running.phaseRules.rules)
        #expect(inForce.limits.maxConnections == running.limits.maxConnections)
        #expect(inForce.logging.format == .logfmt)
    }

    @Test func aChangedSourceIsNamedWithoutItsKey() throws {
        let fixture = try ConfigFixture()
        let running = try fixture.load(ConfigText.base)
        let loaded = try fixture.load(ConfigText.with(replacing: ["    channel": "channel: email"]))
        let plan = ReloadPlan(running: running, loaded: loaded)
        #expect(plan.applied == ["sources"])
        #expect(plan.sourcesChanged == ["website"])
        #expect(plan.inForce.sources.first?.channel == "email")
    }

    @Test func requestsKeepTheSettingsTheyStartedWithAndNewOnesSeeTheReplacement() throws {
        let fixture = try ConfigFixture()
        let running = try fixture.load(ConfigText.base)
        let live = LiveConfiguration(running)
        let taken = live.current
        live.replace(with: try fixture.load(ConfigText.with(replacing: ["  event_bytes": "event_bytes: 1KB"])))
        #expect(taken.normaliser.settings.maxEventBytes == 32_000)
        #expect(live.current.configuration.limits.eventBytes == 1_000)
        #expect(live.current.normaliser.settings.maxEventBytes == 1_000, "the normaliser is rebuilt with the new limit")
    }
}
