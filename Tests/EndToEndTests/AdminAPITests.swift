import Foundation
import JourneyCore
import Testing

/// Lookups on the admin listener: bearer token, by id and by identifier, paging, absorbed ids.
@Suite struct AdminAPITests {
    @Test func healthAndReadinessAreOpenButDataNeedsTheToken() async throws {
        try await withDaemon("adminauth") { _, client async throws in
            #expect(try await client.admin("/healthz", token: nil).status == 200)
            #expect(try await client.admin("/readyz", token: nil).status == 200)
            #expect(try await client.admin("/v1/stats", token: nil).status == 401)
            #expect(try await client.admin("/v1/stats", token: "wrong-token-wrong-token").status == 401)
            #expect(try await client.admin("/v1/profiles/p_0000000000000000", token: nil).status == 401)
            #expect(try await client.admin("/v1/stats").status == 200)
        }
    }

    @Test func absorbedProfileIdAnswersWithTheSurvivor() async throws {
        try await withDaemon("absorbed") { _, client async throws in
            // Two anonymous visitors become profiles; a login links both to one user. The profile
            // with the earliest touchpoint keeps its id; the other id keeps answering.
            let early = Events.track("Product Viewed", anonymousId: "laptop", extra: #""timestamp":"2024-03-01T10:00:00Z""#)
            let late = Events.track("Product Viewed", anonymousId: "phone", extra: #""timestamp":"2024-03-02T10:00:00Z""#)
            #expect(try await client.post("/v1/batch", Events.batch([early, late])).status == 200)
            let laptopID = try await client.admin("/v1/profiles?type=anonymous_id&value=laptop").json()["profile_id"]!.string!
            let phoneID = try await client.admin("/v1/profiles?type=anonymous_id&value=phone").json()["profile_id"]!.string!
            #expect(laptopID != phoneID)

            let logins = [
                #"{"type":"identify","userId":"u-1","anonymousId":"laptop","timestamp":"2024-03-03T10:00:00Z"}"#,
                #"{"type":"identify","userId":"u-1","anonymousId":"phone","timestamp":"2024-03-03T11:00:00Z"}"#,
            ]
            #expect(try await client.post("/v1/batch", Events.batch(logins)).status == 200)
            let viaAbsorbed = try await client.admin("/v1/profiles/\(phoneID)").json()
            #expect(viaAbsorbed["profile_id"]?.string == laptopID)
            #expect(viaAbsorbed["merged_from"]?.elements.map { $0.string } == [phoneID])
            #expect(viaAbsorbed["touchpoints"]?.int == 4)
            #expect(viaAbsorbed["first_seen"]?.string == "2024-03-01T10:00:00.000Z")
            let stats = try await client.admin("/v1/stats").json()
            #expect(stats["merges"]?.int == 1)
            #expect(stats["profiles"]?.int == 1)
        }
    }

    @Test func journeysArePagedInOrder() async throws {
        try await withDaemon("paging") { _, client async throws in
            // Sent newest first: the journey comes back oldest first.
            let items = (0..<5).reversed().map { index in
                Events.track("Product Viewed", userId: "pager", messageId: "page-\(index)", extra: "\"timestamp\":\"2024-01-0\(index + 1)T00:00:00Z\"")
            }
            #expect(try await client.post("/v1/batch", Events.batch(items)).status == 200)
            let first = try await client.admin("/v1/profiles?type=user_id&value=pager&limit=2").json()
            #expect(first["journey"]?.elements.map { $0["message_id"]!.string! } == ["page-0", "page-1"])
            #expect(first["next_after"]?.int == 2)
            let id = first["profile_id"]!.string!
            let last = try await client.admin("/v1/profiles/\(id)?after=4&limit=2").json()
            #expect(last["journey"]?.elements.map { $0["seq"]!.int! } == [5])
            #expect(last["next_after"]?.isNull == true)
            #expect(try await client.admin("/v1/profiles/\(id)?limit=0").status == 400)
            #expect(try await client.admin("/v1/profiles/\(id)?after=-1").status == 400)
        }
    }

    @Test func lookupValuesAreNormalisedLikeIngest() async throws {
        try await withDaemon("normalised") { _, client async throws in
            let identify = #"{"userId":"norm-1","traits":{"email":"  Grace.Hopper@Example.COM ","phone":"+1 (555) 010-9999"}}"#
            #expect(try await client.post("/v1/identify", identify).status == 200)
            let byEmail = try await client.admin("/v1/profiles?type=email&value=%20GRACE.hopper@example.com")
            #expect(byEmail.status == 200)
            let byPhone = try await client.admin("/v1/profiles?type=phone&value=%2B15550109999")
            #expect(try byPhone.json()["profile_id"]?.string == (try byEmail.json()["profile_id"]?.string))
            #expect(try await client.admin("/v1/profiles?type=email&value=nobody@example.com").status == 404)
            #expect(try await client.admin("/v1/profiles?type=shoe_size&value=9").status == 400)
            #expect(try await client.admin("/v1/profiles/p_doesnotexist").status == 404)
        }
    }
}
