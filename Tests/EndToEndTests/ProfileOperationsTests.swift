import Foundation
import JourneyCore
import JourneyStorage
import Testing

/// Erasure, splits and shared identifiers against the real daemon: the admin API, what ingest
/// answers afterwards, the log, the snapshot, and survival across restarts (checkpoint and WAL).
@Suite struct ProfileOperationsTests {
    /// Every line of the newest snapshot's table files (decompressed), by table file name.
    static func snapshotLines(_ daemon: DaemonProcess) throws -> [String: [String]] {
        let store = SnapshotStore(stateDirectory: daemon.stateDirectory)
        let directory = store.directory + "/" + (try #require(store.latestName))
        var lines: [String: [String]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file.hasSuffix(".jsonl.gz") {
            let text = try Gzip.decompress([UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))), maxOutputBytes: 1 << 28)
            lines[file] = String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        return lines
    }

    static func profileID(_ client: TrackingClient, _ type: String, _ value: String) async throws -> String? {
        let reply = try await client.admin("/v1/profiles?type=\(type)&value=\(value)")
        return reply.status == 200 ? try reply.json()["profile_id"]?.string : nil
    }

    @Test func anErasedCustomerIsForgottenAndSuppressedAcrossRestarts() async throws {
        let daemon = try await DaemonProcess.start(label: "erase")
        let client = try TrackingClient(daemon: daemon)
        let ada = (0..<5).map { Events.track("Product Viewed", userId: "ada-lovelace", anonymousId: "ada-browser", messageId: "ada-\($0)") }
            + [#"{"type":"identify","userId":"ada-lovelace","messageId":"ada-id","traits":{"email":"ada@example.com","name":"Ada"}}"#]
        let bob = (0..<3).map { Events.track("Product Viewed", userId: "bob", messageId: "bob-\($0)") }
        #expect(try await client.post("/v1/batch", Events.batch(ada + bob)).status == 200)
        let adaID = try #require(try await Self.profileID(client, "email", "ada@example.com"))

        // Bad requests first: nothing is erased by them.
        #expect(try await client.admin("/v1/profiles/\(adaID)?suppress=maybe", method: .DELETE).status == 400)
        #expect(try await client.admin("/v1/profiles/p_0000000000000001", method: .DELETE).status == 404)
        #expect(try await client.admin("/v1/profiles?type=email&value=nobody@example.com", method: .DELETE).status == 404)
        #expect(try await client.admin("/v1/profiles/\(adaID)", method: .DELETE, token: nil).status == 401)

        let erased = try await client.admin("/v1/profiles?type=email&value=ADA@example.com&suppress=true", method: .DELETE)
        #expect(erased.status == 200, "\(erased.text)")
        let answer = try erased.json()
        #expect(answer["erased"]?.string == adaID)
        #expect(answer["touchpoints"]?.int == 6 && answer["identifiers"]?.int == 3 && answer["suppressed"]?.int == 3)
        #expect(try await client.admin("/v1/profiles/\(adaID)").status == 404)
        #expect(try await Self.profileID(client, "user_id", "ada-lovelace") == nil)
        #expect(try await Self.profileID(client, "user_id", "bob") != nil)
        #expect(daemon.log.contains("msg=\"profile operation\"") && daemon.log.contains("operation=\"erase by email suppress\""))
        #expect(!daemon.log.contains("ada@example.com"))

        // Her later events are refused item by item, named "suppressed", and dead-lettered without their body.
        let later = [Events.track("Order Completed", userId: "ada-lovelace", messageId: "ada-later"), Events.track("Product Viewed", userId: "bob", messageId: "bob-later")]
        let reply = try await client.post("/v1/batch", Events.batch(later))
        #expect(reply.status == 200)
        let body = try reply.json()
        #expect(body["accepted"]?.int == 1)
        #expect(body["rejected"]?[index: 0]?["index"]?.int == 0)
        #expect(body["rejected"]?[index: 0]?["error"]?.string?.hasPrefix("suppressed") == true)
        #expect(try await client.post("/v1/track", Events.track("Order Completed", anonymousId: "ada-browser")).status == 400)
        let deadLetters = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDirectory + "/deadletter")
            .map { try String(contentsOfFile: daemon.stateDirectory + "/deadletter/" + $0, encoding: .utf8) }.joined()
        #expect(deadLetters.contains(#""reason":"suppressed"#) && deadLetters.contains(#""event":null"#))
        #expect(!deadLetters.contains("ada-later"))
        // And on the stream: an error line for that line.
        let stream = try await StreamClient.connect(to: daemon)
        try await stream.send(lines: [#"{"writeKey":"\#(DaemonProcess.streamWriteKey)"}"#, Events.track("Visit", userId: "bob"), Events.track("Visit", userId: "ada-lovelace")])
        let lines = try await stream.linesUntilAck(2)
        #expect(lines.contains { $0.contains(#""line":2"#) && $0.contains("suppressed") }, "\(lines)")
        await stream.close()

        // Not in the snapshot; still gone and suppressed after a restart from that snapshot…
        _ = try await DurabilityTests.snapshot(client)
        let tables = try Self.snapshotLines(daemon)
        #expect(!tables.values.joined().contains { $0.contains("ada") || $0.contains(adaID) })
        #expect(tables["touchpoints.jsonl.gz"]?.count == 3 + 1 + 1)
        try await client.shutdown()
        await daemon.stop(keepFiles: true)
        let restarted = try await daemon.restart()
        let after = try TrackingClient(daemon: restarted)
        #expect(try await Self.profileID(after, "user_id", "ada-lovelace") == nil)
        let refused = try await after.post("/v1/batch", Events.batch([Events.track("Visit", userId: "ada-lovelace")])).json()
        #expect(refused["accepted"]?.int == 0)
        // …and after a crash that leaves the erasure only in the WAL.
        let carol = [Events.track("Product Viewed", userId: "carol", messageId: "carol-1")]
        #expect(try await after.post("/v1/batch", Events.batch(carol)).status == 200)
        #expect(try await after.admin("/v1/profiles?type=user_id&value=carol", method: .DELETE).status == 200)
        try await after.shutdown()
        restarted.kill()
        let replayed = try await restarted.restart()
        let last = try TrackingClient(daemon: replayed)
        #expect(try await Self.profileID(last, "user_id", "carol") == nil)
        #expect(try await Self.profileID(last, "user_id", "bob") != nil)
        // Without suppression, a new event of hers starts a new profile.
        #expect(try await last.post("/v1/batch", Events.batch([Events.track("Back", userId: "carol")])).json()["accepted"]?.int == 1)
        let stats = try await last.admin("/v1/stats").json()
        #expect(stats["erasures"]?.int == 2 && stats["suppressed_identifiers"]?.int == 3)
        try await last.shutdown()
        await replayed.stop()
    }

    /// Ann and Ben never logged in; a browser both used joined them.
    static let household = [
        #"{"type":"identify","anonymousId":"family-ipad","messageId":"ann-1","timestamp":"2024-05-01T10:00:00Z","traits":{"email":"ann@example.com"}}"#,
        #"{"type":"identify","anonymousId":"ben-phone","messageId":"ben-1","timestamp":"2024-05-01T11:00:00Z","context":{"device":{"id":"ben-device"}},"traits":{"email":"ben@example.com"}}"#,
        #"{"type":"track","event":"Product Viewed","anonymousId":"family-ipad","messageId":"bridge","timestamp":"2024-05-01T12:00:00Z","context":{"device":{"id":"ben-device"}}}"#,
    ]

    /// A batch mixing a suppressed customer's event, new events and a resend logs exactly the new
    /// ones (the engine picks their framed records by position past the refused one): after a
    /// crash, the WAL alone rebuilds each once.
    @Test func aBatchWithRefusedAndRepeatedEventsIsLoggedExactly() async throws {
        let daemon = try await DaemonProcess.start(label: "erase-wal")
        let client = try TrackingClient(daemon: daemon)
        let first = [Events.track("Product Viewed", userId: "ada", messageId: "ada-1"), Events.track("Product Viewed", userId: "bob", messageId: "bob-1")]
        #expect(try await client.post("/v1/batch", Events.batch(first)).status == 200)
        #expect(try await client.admin("/v1/profiles?type=user_id&value=ada&suppress=true", method: .DELETE).status == 200)
        let mixed = [
            Events.track("Order Completed", userId: "ada", messageId: "ada-2"), Events.track("Product Viewed", userId: "bob", messageId: "bob-2"),
            Events.track("Product Viewed", userId: "bob", messageId: "bob-1"), Events.track("Order Completed", userId: "bob", messageId: "bob-3"),
        ]
        let reply = try await client.post("/v1/batch", Events.batch(mixed)).json()
        #expect(reply["accepted"]?.int == 3 && reply["duplicates"]?.int == 1)
        try await client.shutdown()
        daemon.kill()

        let restarted = try await daemon.restart()
        let after = try TrackingClient(daemon: restarted)
        #expect(try await after.admin("/v1/profiles?type=user_id&value=bob").json()["touchpoints"]?.int == 3)
        #expect(try await Self.profileID(after, "user_id", "ada") == nil)
        let stats = try await after.admin("/v1/stats").json()
        #expect(stats["events"]?.int == 4 && stats["duplicates"]?.int == 0)
        try await after.shutdown()
        await restarted.stop()
    }

    @Test func splitsSeparateWronglyMergedCustomersAndStaySplit() async throws {
        let daemon = try await DaemonProcess.start(label: "split")
        let client = try TrackingClient(daemon: daemon)
        #expect(try await client.post("/v1/batch", Events.batch(Self.household)).status == 200)
        let joined = try await client.admin("/v1/profiles?type=email&value=ann@example.com").json()
        let id = try #require(joined["profile_id"]?.string)
        let absorbed = try #require(joined["merged_from"]?[index: 0]?.string)
        #expect(try await Self.profileID(client, "email", "ben@example.com") == id)

        // Refusals name the problem.
        #expect(try await client.admin("/v1/profiles/p_0000000000000001/split", method: .POST, body: #"{"merge":"\#(absorbed)"}"#).status == 404)
        #expect(try await client.admin("/v1/profiles/\(id)/split", method: .POST, body: "not json").status == 400)
        #expect(try await client.admin("/v1/profiles/\(id)/split", method: .POST, body: #"{"merge":"p_x"}"#).status == 400)
        #expect(try await client.admin("/v1/profiles/\(id)/split", method: .POST, body: #"{"merge":"p_0000000000000001"}"#).status == 409)
        #expect(
            try await client.admin("/v1/profiles/\(id)/split", method: .POST, body: #"{"identifier":{"type":"anonymous_id","value":"someone-else"}}"#)
                .status == 409)

        // Undo the merge: Ann and Ben apart, with the join recorded as refused.
        let undone = try await client.admin("/v1/profiles/\(id)/split", method: .POST, body: #"{"merge":"\#(absorbed)"}"#)
        #expect(undone.status == 200, "\(undone.text)")
        #expect(try undone.json()["profiles"]?.count == 2)
        let ann = try await Self.profileID(client, "email", "ann@example.com")
        let ben = try await Self.profileID(client, "email", "ben@example.com")
        #expect(ann != nil && ben != nil && ann != ben)
        // An event carrying both sides again does not join them.
        let again = #"{"type":"track","event":"Visit","anonymousId":"family-ipad","messageId":"again","context":{"device":{"id":"ben-device"}}}"#
        #expect(try await client.post("/v1/batch", Events.batch([again])).status == 200)
        #expect(try await Self.profileID(client, "email", "ann@example.com") != (try await Self.profileID(client, "email", "ben@example.com")))

        _ = try await DurabilityTests.snapshot(client)
        let merges = try #require(try Self.snapshotLines(daemon)["merges.jsonl.gz"])
        #expect(merges.contains { $0.contains(#""reason":"split:merge""#) && $0.contains(#""message_id":null"#) })
        #expect(merges.filter { $0.contains(#""reason":"kept_apart""#) && $0.contains(#""blocked":true"#) }.count == 2)
        #expect(try SnapshotVerifier.verify(directory: SnapshotStore(stateDirectory: daemon.stateDirectory).directory + "/"
            + SnapshotStore(stateDirectory: daemon.stateDirectory).latestName!).manifest.counts.merges == merges.count)

        // It survives a crash (the split is in the WAL after the snapshot).
        try await client.shutdown()
        daemon.kill()
        let restarted = try await daemon.restart()
        let after = try TrackingClient(daemon: restarted)
        #expect(try await Self.profileID(after, "email", "ann@example.com") == ann)
        #expect(try await Self.profileID(after, "email", "ben@example.com") == ben)
        try await after.shutdown()
        await restarted.stop()
    }

    @Test func declaringAnIdentifierSharedSplitsAndIsListed() async throws {
        try await withDaemon("shared") { daemon, client async throws in
            #expect(try await client.post("/v1/batch", Events.batch(Self.household)).status == 200)
            let id = try #require(try await Self.profileID(client, "email", "ann@example.com"))
            let body = #"{"identifier":{"type":"anonymous_id","value":" family-ipad "}}"#
            let reply = try await client.admin("/v1/profiles/\(id)/split", method: .POST, body: body)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try reply.json()["split"]?.string == id)
            #expect(try await Self.profileID(client, "email", "ann@example.com") != (try await Self.profileID(client, "email", "ben@example.com")))
            let shared = try await client.admin("/v1/stats").json()["shared_identifiers"]
            #expect(shared?["count"]?.int == 1)
            #expect(shared?["latest"]?[index: 0]?["value"]?.string == "family-ipad")
            #expect(shared?["latest"]?[index: 0]?["reason"]?.string == "declared")
            #expect(try await client.admin("/v1/stats").json()["splits"]?.int == 1)
        }
    }

    @Test func anIdentifierSeenWithManyUsersIsFlaggedWithAWarningThatHidesItsValue() async throws {
        try await withDaemon("kiosk", extraConfig: "identity:\n  shared_threshold: { device_id: 3 }") { daemon, client async throws in
            let visits = (0..<3).map { index in
                #"{"type":"track","event":"Kiosk Used","userId":"shopper-\#(index)","context":{"device":{"id":"store-kiosk-7"}}}"#
            }
            #expect(try await client.post("/v1/batch", Events.batch(visits)).status == 200)
            #expect(await daemon.waitForLog("identifier flagged as shared", timeout: .seconds(10)))
            let line = try #require(daemon.log.split(separator: "\n").first { $0.contains("identifier flagged as shared") })
            let fields = DaemonProcess.logfmtFields(String(line))
            #expect(fields["level"] == "warning" && fields["identifier_type"] == "device_id" && fields["user_ids"] == "3")
            #expect(fields["value_hash"]?.utf8.count == 16)
            #expect(!daemon.log.contains("store-kiosk-7"))
            let stats = try await client.admin("/v1/stats").json()
            #expect(stats["shared_identifiers"]?["count"]?.int == 1)
            #expect(stats["shared_identifiers"]?["latest"]?[index: 0]?["reason"]?.string == "automatic")
            #expect(stats["profiles"]?.int == 3 && stats["blocked_merges"]?.int == 0)
            _ = try await DurabilityTests.snapshot(client)
            let shared = try #require(try Self.snapshotLines(daemon)["shared_identifiers.jsonl.gz"])
            #expect(shared.count == 1 && shared[0].contains(#""value":"store-kiosk-7""#) && shared[0].contains(#""user_ids":3"#))
        }
    }

    @Test func theSameEventsInAnotherOrderGiveTheSameSnapshot() async throws {
        // Households sharing tablets, late phone batches and aliases, sent in two different orders
        // to two daemons: the snapshot tables are the same (apart from superseded-id rows, which
        // record the arrival history).
        var events: [String] = []
        for family in 0..<6 {
            let tablet = "tablet-\(family)"
            for (member, user) in ["a", "b"].enumerated() {
                for visit in 0..<4 {
                    let time = "2024-06-0\(1 + visit)T1\(member):0\(family):00Z"
                    events.append(
                        #"{"type":"track","event":"Product Viewed","userId":"\#(user)-\#(family)","messageId":"m-\#(family)-\#(user)-\#(visit)","timestamp":"\#(time)","context":{"device":{"id":"\#(tablet)"}}}"#)
                }
                events.append(
                    #"{"type":"identify","anonymousId":"phone-\#(family)-\#(user)","userId":"\#(user)-\#(family)","messageId":"id-\#(family)-\#(user)","timestamp":"2024-05-30T09:00:00Z","traits":{"email":"\#(user)\#(family)@example.com"}}"#)
            }
            events.append(
                #"{"type":"alias","previousId":"guest-cookie-\#(family)","userId":"a-\#(family)","messageId":"alias-\#(family)","timestamp":"2024-06-02T08:00:00Z"}"#)
            events.append(
                #"{"type":"page","name":"Home","anonymousId":"guest-cookie-\#(family)","messageId":"guest-\#(family)","timestamp":"2024-05-20T08:00:00Z"}"#)
        }
        var generator = SystemRandomNumberGenerator()
        var snapshots: [[String: [String]]] = []
        for order in [events, events.reversed(), events.shuffled(using: &generator)] {
            try await withDaemon("order") { daemon, client async throws in
                for start in stride(from: 0, to: order.count, by: 7) {
                    #expect(try await client.post("/v1/batch", Events.batch(Array(order[start..<min(start + 7, order.count)]))).status == 200)
                }
                _ = try await DurabilityTests.snapshot(client)
                var tables = try Self.snapshotLines(daemon)
                tables["merges.jsonl.gz"] = tables["merges.jsonl.gz"]?.filter { !$0.contains(#""reason":"superseded""#) }
                // received_at is when each arrived.
                tables["touchpoints.jsonl.gz"] = tables["touchpoints.jsonl.gz"]?.map { $0.replacing(/"received_at":"[^"]*",/, with: "") }
                snapshots.append(tables)
            }
        }
        #expect(snapshots[0]["profiles.jsonl.gz"]?.count == 12 + 0)
        #expect(snapshots[0]["merges.jsonl.gz"]?.contains { $0.contains("limit:user_id") } == true)
        #expect(snapshots[1] == snapshots[0])
        #expect(snapshots[2] == snapshots[0])
    }
}
