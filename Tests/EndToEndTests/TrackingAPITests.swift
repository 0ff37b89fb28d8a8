import Foundation
import JourneyCore
import Testing

/// The Segment-compatible tracking API, end to end: the real daemon, real TLS, real gzip.
@Suite struct TrackingAPITests {
    @Test(arguments: [TrackingClient.Version.http1, .http2])
    func allSevenCallsAreAcceptedAndStitched(version: TrackingClient.Version) async throws {
        try await withDaemon("seven", version: version) { daemon, client async throws in

            let calls: [(String, String)] = [
                ("track", #"{"anonymousId":"anon-7","event":"Product Viewed","properties":{"sku":"A-1"}}"#),
                ("identify", #"{"anonymousId":"anon-7","userId":"user-7","traits":{"email":"Seven@Example.com","plan":"pro"}}"#),
                ("page", #"{"userId":"user-7","name":"Home"}"#),
                ("screen", #"{"userId":"user-7","name":"Cart"}"#),
                ("group", #"{"userId":"user-7","groupId":"acme","traits":{"employees":10}}"#),
                ("alias", #"{"userId":"user-7","previousId":"old-device-id"}"#),
            ]
            for (call, body) in calls {
                let reply = try await client.post("/v1/\(call)", body)
                #expect(reply.status == 200, "\(call): \(reply.text)")
                #expect(reply.version.major == (version == .http2 ? 2 : 1))
            }
            let batch = try await client.post("/v1/batch", Events.batch([Events.track("Order Completed", userId: "user-7")]))
            #expect(batch.status == 200)
            #expect(try batch.json()["accepted"]?.int == 1)

            let profile = try await client.admin("/v1/profiles?type=user_id&value=user-7").json()
            #expect(profile["touchpoints"]?.int == 7)
            let types = profile["journey"]!.elements.compactMap { $0["type"]?.string }
            #expect(Set(types) == ["track", "identify", "page", "screen", "group", "alias"])
            let identifiers = profile["identifiers"]!.elements.map { "\($0["type"]!.string!)=\($0["value"]!.string!)" }
            #expect(Set(identifiers) == ["user_id=user-7", "email=seven@example.com", "anonymous_id=anon-7", "anonymous_id=old-device-id"])
            #expect(profile["traits"]?["plan"]?.string == "pro")
            #expect(profile["converted"]?.bool == true)
            #expect(profile["stage"]?.string == "buy")
            #expect(profile["channels"]?.elements.map { $0.string } == ["web"])
        }
    }

    @Test func writeKeyInBodySelectsTheSourceAndChannel() async throws {
        try await withDaemon("bodykey") { daemon, client async throws in

            let body = Events.batch([Events.track("Application Opened", userId: "mobile-user")], extra: "\"writeKey\":\"\(DaemonProcess.mobileWriteKey)\"")
            let reply = try await client.post("/v1/batch", body, writeKey: nil)
            #expect(reply.status == 200, "\(reply.text)")
            let profile = try await client.admin("/v1/profiles?type=user_id&value=mobile-user").json()
            let touch = try #require(profile["journey"]?.elements.first)
            #expect(touch["source"]?.string == "app")
            #expect(touch["channel"]?.string == "mobile")
            #expect(touch["phase"]?.string == "use")
        }
    }

    @Test func gzipBodiesAreAccepted() async throws {
        try await withDaemon("gzip", version: .http2) { daemon, client async throws in

            let items = (0..<50).map { Events.track("Product Viewed", anonymousId: "gz-\($0 % 5)") }
            let reply = try await client.post("/v1/batch", Events.batch(items), gzip: true)
            #expect(reply.status == 200)
            #expect(try reply.json()["accepted"]?.int == 50)
            let stats = try await client.admin("/v1/stats").json()
            #expect(stats["events"]?.int == 50)
            #expect(stats["profiles"]?.int == 5)
        }
    }

    @Test func batchContextAndSentAtApplyToEveryItem() async throws {
        try await withDaemon("context") { daemon, client async throws in

            // Two anonymous ids on one device (batch-level context) become one customer; the batch's
            // sentAt is 10 s after the events' own clock, so their times are corrected by −10 s.
            let items = [
                Events.track("Product Viewed", anonymousId: "tab-1", extra: #""timestamp":"2020-01-01T00:00:00.000Z""#),
                Events.track("Product Added", anonymousId: "tab-2", extra: #""timestamp":"2020-01-01T00:00:05+00:00""#),
            ]
            let before = Date()
            let body = Events.batch(items, extra: #""context":{"device":{"id":"device-42"}},"sentAt":"2020-01-01T00:00:10Z""#)
            #expect(try await client.post("/v1/batch", body).status == 200)
            let profile = try await client.admin("/v1/profiles?type=device_id&value=device-42").json()
            #expect(profile["touchpoints"]?.int == 2)
            let times = profile["journey"]!.elements.map { Timestamp(rfc3339: $0["ts"]!.string!)!.millisecondsSinceEpoch }
            let expectedFirst = Int64(before.timeIntervalSince1970 * 1000) - 10_000
            #expect(abs(times[0] - expectedFirst) < 5_000)
            #expect(times[1] - times[0] == 5_000)
        }
    }

    /// A batch mixing stored and new events logs only the new ones (their records were framed
    /// by the ingest task; the engine logs the subset): after a crash, the WAL alone rebuilds
    /// each event once.
    @Test func duplicatesAreAcknowledgedButStoredOnce() async throws {
        let daemon = try await DaemonProcess.start(label: "dupes")
        let client = try TrackingClient(daemon: daemon)
        let body = Events.batch((0..<3).map { Events.track("Product Viewed", userId: "dup-user", messageId: "m-\($0)") })
        let first = try await client.post("/v1/batch", body).json()
        let second = try await client.post("/v1/batch", body).json()
        #expect(first["accepted"]?.int == 3)
        #expect(first["duplicates"]?.int == 0)
        #expect(second["accepted"]?.int == 3)
        #expect(second["duplicates"]?.int == 3)
        let mixed = Events.batch(["m-3", "m-1", "m-4", "m-4", "m-2"].map { Events.track("Product Viewed", userId: "dup-user", messageId: $0) })
        let third = try await client.post("/v1/batch", mixed).json()
        #expect(third["accepted"]?.int == 5)
        #expect(third["duplicates"]?.int == 3)
        #expect(try await client.admin("/v1/profiles?type=user_id&value=dup-user").json()["touchpoints"]?.int == 5)
        try await client.shutdown()
        daemon.kill()  // no shutdown snapshot: the restart rebuilds everything from the WAL

        let restarted = try await daemon.restart()
        let after = try TrackingClient(daemon: restarted)
        let profile = try await after.admin("/v1/profiles?type=user_id&value=dup-user").json()
        #expect(profile["touchpoints"]?.int == 5)
        let stats = try await after.admin("/v1/stats").json()
        #expect(stats["events"]?.int == 5)
        #expect(stats["duplicates"]?.int == 0)
        #expect(stats["last_snapshot"] == nil || stats["last_snapshot"]?.isNull == true)
        try await after.shutdown()
        await restarted.stop()
    }
}
