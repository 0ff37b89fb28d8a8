import Foundation
import JourneyCore
import Testing

/// `journeyctl simulate` and `journeyctl score` against the real daemon over real TLS: a small
/// population over HTTPS and another over the stream, a snapshot, then each scored against its
/// own ground truth.
@Suite struct SimulateTests {
    static var journeyctl: String { TestEnvironment.builtProduct("journeyctl") }

    static func run(_ arguments: [String]) async throws -> CommandRun {
        let run = try await CommandRun.run(journeyctl, arguments)
        #expect(run.status == 0, "journeyctl \(arguments.joined(separator: " ")) exited \(run.status): \(run.stderr)")
        return run
    }

    static func json(_ text: String) throws -> JSONValue {
        try JSONDocument(bytes: Array(text.utf8)).root
    }

    @Test func simulatedTrafficOverBothInputsIsStoredOnceAndStitched() async throws {
        let fragment = try await Self.run(["simulate", "--print-config", "--key-prefix", "e2e"]).stdout
        #expect(fragment.contains("name: call-centre, channel: call_center, write_key: \"e2e-call-centre-write-key\", stream_write_key: true"))
        let daemon = try await DaemonProcess.start(label: "simulate", sources: fragment)
        let client = try TrackingClient(daemon: daemon)
        defer { try? FileManager.default.removeItem(atPath: daemon.directory + "-sim") }
        do {
            let out = daemon.directory + "-sim"
            let common = ["--customers", "150", "--key-prefix", "e2e", "--ca", daemon.certificates.caCertificate, "--no-progress", "--json", "--connections", "3"]
            let https = try await Self.json(Self.run(
                ["simulate", "--seed", "5", "--out", out + "/https", "--https", daemon.httpAddress, "--gzip", "--batch-size", "50"] + common).stdout)
            let stream = try await Self.json(Self.run(
                ["simulate", "--seed", "6", "--out", out + "/stream", "--stream", daemon.streamAddress, "--write-corpus"] + common).stdout)
            for summary in [https, stream] {
                #expect(summary["sent"]?.int == summary["deliveries"]?.int)
                #expect(summary["accepted"]?.int == summary["deliveries"]?.int)
                #expect(summary["rejected"]?.int == 0)
                #expect(summary["failures"]?.int == 0)
                #expect((summary["latency"]?["samples"]?.int ?? 0) > 0)
            }
            // Over HTTPS the daemon says which deliveries were duplicates: exactly the repeated ones.
            #expect(https["duplicates"]?.int == (https["deliveries"]?.int ?? 0) - (https["unique_events"]?.int ?? 0))
            #expect(FileManager.default.fileExists(atPath: out + "/stream/events/store.jsonl.gz"))

            let snapshot = try await client.admin("/v1/snapshots", method: .POST)
            #expect(snapshot.status == 200)

            for (name, summary, other) in [("https", https, stream), ("stream", stream, https)] {
                let score = try await Self.json(Self.run(["score", daemon.stateDirectory, "--truth", out + "/" + name, "--json"]).stdout)
                let events = try #require(score["events"])
                #expect(events["sent"]?.int == summary["unique_events"]?.int)
                #expect(events["lost"]?.int == 0)
                #expect(events["duplicated"]?.int == 0)
                #expect(events["unexpected"]?.int == other["unique_events"]?.int)
                let journeyd = try #require(score["journeyd"])
                let baseline = try #require(score["connected_components"])
                #expect((journeyd["precision"]?.double ?? 0) >= 0.98, "\(name): \(score)")
                #expect((journeyd["recall"]?.double ?? 0) >= 0.95, "\(name): \(score)")
                #expect(journeyd["households_merged"]?.int == 0)
                #expect((baseline["households_merged"]?.int ?? 0) == score["households"]?.int)
            }
            let text = try await Self.run(["score", daemon.stateDirectory + "/snapshots", "--truth", out + "/https/truth.jsonl.gz"]).stdout
            #expect(text.contains("households merged"))
            try await client.shutdown()
            await daemon.stop()
        } catch {
            try? await client.shutdown()
            await daemon.stop()
            throw error
        }
    }

    @Test func scoreNamesWhatItCannotRead() throws {
        let run = try CommandRun.run(Self.journeyctl, ["score", "/nonexistent-snapshot", "--truth", "/nonexistent"])
        #expect(run.status == 66)
        #expect(run.stderr.contains("cannot read the snapshot /nonexistent-snapshot"))
    }
}
