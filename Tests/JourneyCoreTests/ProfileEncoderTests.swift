import Testing
@testable import JourneyCore

private typealias T = TestEvents

@Suite("ProfileEncoder")
struct ProfileEncoderTests {
    /// profiles.jsonl.gz row fields, DESIGN.md "Snapshots", in the documented order.
    static let profileFields = [
        "profile_id", "identifiers", "traits", "first_seen", "last_seen", "touchpoints", "channels", "channel_count", "phases",
        "stage", "converted", "time_to_first_purchase_s", "merged_from",
    ]
    /// touchpoints.jsonl.gz row fields.
    static let touchpointFields = [
        "profile_id", "seq", "ts", "received_at", "message_id", "source", "channel", "type", "event", "phase",
        "properties",
    ]

    private func iso(_ offset: Int64) -> String { Timestamp(millisecondsSinceEpoch: T.base + offset).description }

    /// One customer over three channels, whose id moved once when an earlier event arrived late.
    private func sampleStitcher() -> Stitcher {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        stitcher.applyAll([
            T.event("m1", at: 1000, type: .page, name: "Home", ids: [T.anon("a-1")], phase: .explore, properties: #"{"path":"/"}"#),
            T.event(
                "m2", at: 2000, source: T.app, name: "Order Completed", ids: [T.anon("a-1"), T.email("ada@example.com")],
                phase: .buy, properties: #"{"total":10}"#),
            T.event(
                "m3", at: 3000, source: T.callCentre, name: "Ticket Created", ids: [T.user("u-1"), T.email("ada@example.com")],
                phase: .ask, traits: [("name", #""Ada""#)]),
            T.event("m4", at: 4000, type: .identify, name: nil, ids: [T.user("u-1")], traits: [("plan", #"{"tier":"gold"}"#)]),
            T.event("m0", at: 500, source: T.app, name: "Promotion Viewed", ids: [T.device("d-1"), T.anon("a-1")], phase: .discover),
        ])
        return stitcher
    }

    private func parse(_ bytes: [UInt8]?, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        let bytes = try #require(bytes, sourceLocation: sourceLocation)
        return try JSONDocument(bytes: bytes).root
    }

    @Test func summaryHasExactlyTheSnapshotFields() throws {
        let stitcher = sampleStitcher()
        let id = T.pid("m0", source: T.app)
        let root = try parse(ProfileEncoder(stitcher).profileJSON(id: id))
        #expect(root.members.map(\.key) == Self.profileFields)

        #expect(root["profile_id"]?.string == id.description)
        let identifiers = root["identifiers"]!.elements.map { "\($0["type"]!.string!)=\($0["value"]!.string!)" }
        // Priority order (user_id, email, phone, device_id, anonymous_id), then value.
        #expect(identifiers == ["user_id=u-1", "email=ada@example.com", "device_id=d-1", "anonymous_id=a-1"])
        #expect(root["identifiers"]!.elements.allSatisfy { $0.members.map(\.key) == ["type", "value"] })
        // Traits sorted by key, values as sent.
        #expect(root["traits"]?.members.map(\.key) == ["name", "plan"])
        #expect(root["traits"]?["plan"]?["tier"]?.string == "gold")
        #expect(root["traits"]?["name"]?.string == "Ada")
        #expect(root["first_seen"]?.string == iso(500))
        #expect(root["last_seen"]?.string == iso(4000))
        #expect(root["first_seen"]?.string == "2026-01-01T00:00:00.500Z")
        #expect(root["touchpoints"]?.int == 5)
        // Channels in order of first use.
        #expect(root["channels"]?.elements.map { $0.string! } == ["mobile", "web", "call_center"])
        // Phases in life-cycle order with the first time each was reached.
        #expect(root["phases"]?.members.map(\.key) == ["discover", "explore", "buy", "ask"])
        #expect(root["phases"]?["discover"]?.string == iso(500))
        #expect(root["phases"]?["buy"]?.string == iso(2000))
        #expect(root["phases"]?["ask"]?.string == iso(3000))
        // Stage: the latest touchpoint with a phase (the identify at 4000 has none).
        #expect(root["stage"]?.string == "ask")
        #expect(root["converted"]?.bool == true)
        #expect(root["channel_count"]?.int == 3)
        // First touch at 500, first purchase at 2000.
        #expect(root["time_to_first_purchase_s"]?.double == 1.5)
        // m0 arrived last but is the earliest: its component was re-resolved in canonical order, in
        // which nothing merged (m1's id was superseded, not absorbed).
        #expect(root["merged_from"]?.elements.isEmpty == true)
    }

    @Test func profileWithoutPhases() throws {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m1", at: 0, type: .identify, name: nil, ids: [T.user("u")]))
        let root = try parse(ProfileEncoder(stitcher).profileJSON(id: T.pid("m1")))
        #expect(root["stage"]?.isNull == true)
        #expect(root["converted"]?.bool == false)
        #expect(root["phases"]?.kind == .object && root["phases"]?.count == 0)
        #expect(root["traits"]?.kind == .object && root["traits"]?.count == 0)
        #expect(root["merged_from"]?.kind == .array && root["merged_from"]?.count == 0)
        #expect(root["first_seen"]?.string == root["last_seen"]?.string)
    }

    @Test func journeyTouchpointsHaveTheSnapshotFields() throws {
        let stitcher = sampleStitcher()
        let id = T.pid("m0", source: T.app)
        let root = try parse(ProfileEncoder(stitcher).profileJSON(id: id, journey: (after: 0, limit: 100)))
        #expect(root.members.map(\.key) == Self.profileFields + ["journey", "next_after"])
        let journey = root["journey"]!.elements.map { $0 }
        #expect(journey.count == 5)
        #expect(journey.allSatisfy { $0.members.map(\.key) == Self.touchpointFields })
        #expect(journey.map { $0["message_id"]!.string! } == ["m0", "m1", "m2", "m3", "m4"])
        #expect(journey.map { $0["seq"]!.int! } == [1, 2, 3, 4, 5])
        #expect(journey.allSatisfy { $0["profile_id"]?.string == id.description })
        let order = journey[2]
        #expect(order["ts"]?.string == iso(2000))
        #expect(order["received_at"]?.string == iso(2005))
        #expect(order["source"]?.string == "ios-app" && order["channel"]?.string == "mobile")
        #expect(order["type"]?.string == "track" && order["event"]?.string == "Order Completed")
        #expect(order["phase"]?.string == "buy")
        #expect(order["properties"]?["total"]?.int == 10)
        let identify = journey[4]
        #expect(identify["type"]?.string == "identify")
        #expect(identify["event"]?.isNull == true && identify["phase"]?.isNull == true)
        // No properties: an empty object, not null.
        #expect(identify["properties"]?.kind == .object && identify["properties"]?.count == 0)
        #expect(journey[1]["event"]?.string == "Home" && journey[1]["type"]?.string == "page")
        #expect(root["next_after"]?.isNull == true)
    }

    @Test func journeyPaging() throws {
        let stitcher = sampleStitcher()
        let encoder = ProfileEncoder(stitcher)
        let id = T.pid("m0", source: T.app)
        func page(_ after: Int, _ limit: Int) throws -> (seqs: [Int], next: Int?) {
            let root = try parse(encoder.profileJSON(id: id, journey: (after: after, limit: limit)))
            return (root["journey"]!.elements.map { $0["seq"]!.int! }, root["next_after"]!.int)
        }
        var first = try page(0, 2)
        #expect(first.seqs == [1, 2] && first.next == 2)
        first = try page(2, 2)
        #expect(first.seqs == [3, 4] && first.next == 4)
        first = try page(4, 2)
        #expect(first.seqs == [5] && first.next == nil)
        first = try page(3, 2)
        #expect(first.seqs == [4, 5] && first.next == nil)
        first = try page(5, 2)
        #expect(first.seqs == [] && first.next == nil)
        first = try page(99, 10)
        #expect(first.seqs == [] && first.next == nil)
        first = try page(-3, 1)
        #expect(first.seqs == [1] && first.next == 1)

        // Following next_after visits every touchpoint exactly once, in order.
        var seen: [Int] = []
        var after = 0
        while true {
            let current = try page(after, 2)
            seen += current.seqs
            guard let next = current.next else { break }
            after = next
        }
        #expect(seen == [1, 2, 3, 4, 5])
        #expect(ProfileEncoder.defaultJourneyPageSize == 100 && ProfileEncoder.maxJourneyPageSize == 1000)
    }

    @Test func onlyLiveProfileIdsAreEncoded() {
        let stitcher = sampleStitcher()
        let encoder = ProfileEncoder(stitcher)
        // The superseded id resolves to the current profile, but the encoder itself takes live ids only.
        #expect(encoder.profileJSON(id: T.pid("m1")) == nil)
        #expect(stitcher.resolve(profileID: T.pid("m1")) == T.pid("m0", source: T.app))
        #expect(encoder.profileJSON(id: ProfileID(value: 42)) == nil)
    }

    @Test func mergedFromListsEveryAbsorbedId() throws {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        stitcher.applyAll([
            T.event("m3", at: 300, ids: [T.anon("c")]),
            T.event("m2", at: 200, ids: [T.anon("b")]),
            T.event("m1", at: 100, ids: [T.anon("a")]),
            T.event("m4", at: 400, ids: [T.anon("a"), T.anon("b"), T.anon("c")]),
        ])
        let root = try parse(ProfileEncoder(stitcher).profileJSON(id: T.pid("m1")))
        #expect(root["merged_from"]?.elements.map { $0.string! } == [T.pid("m2"), T.pid("m3")].sorted().map(\.description))
    }

    /// Properties of any size: small ones go out with the rest of their row, larger ones after
    /// it; either way each journey entry is one whole object.
    @Test func touchpointsWithSmallAndLargePropertiesAreWholeObjects() throws {
        let sizes = [0, 10, ProfileEncoder.inlinePropertiesBytes - 20, ProfileEncoder.inlinePropertiesBytes + 50, 70_000]
        var stitcher = Stitcher(policy: T.defaultPolicy())
        stitcher.applyAll(sizes.enumerated().map { index, size in
            let properties = size == 0 ? nil : #"{"pad":""# + String(repeating: "x", count: size - 10) + #""}"#
            return T.event("m\(index)", at: 1000 + Int64(index), ids: [T.user("u-1")], properties: properties)
        })
        let root = try parse(ProfileEncoder(stitcher).profileJSON(id: T.pid("m0"), journey: (after: 0, limit: 100)))
        let journey = root["journey"]!.elements.map { $0 }
        #expect(journey.map { $0["message_id"]!.string! } == sizes.indices.map { "m\($0)" })
        #expect(journey.allSatisfy { $0.members.map(\.key) == Self.touchpointFields })
        #expect(journey.map { $0["properties"]!["pad"]?.string?.count ?? 0 } == sizes.map { max(0, $0 - 10) })
        #expect(root["next_after"]?.isNull == true)
    }

    @Test func textIsEscapedAndOutputIsOneLine() throws {
        // Through the real normaliser: a pretty-printed event with awkward characters.
        let harness = NormaliserHarness()
        let event = try harness.normalise("""
            {
              "type": "identify",
              "userId": "quote\\"back\\\\slash",
              "messageId": "line\\nbreak",
              "traits": {
                "we\\"ird": "tab\\there",
                "nested": { "list": [ 1,
                  2 ] }
              }
            }
            """)
        var stitcher = Stitcher(policy: T.defaultPolicy())
        guard case .stored(let id) = stitcher.apply(event) else {
            Issue.record("not stored")
            return
        }
        let bytes = try #require(ProfileEncoder(stitcher).profileJSON(id: id, journey: (after: 0, limit: 10)))
        // JSON-lines safe: no raw line breaks anywhere.
        #expect(!bytes.contains(0x0A) && !bytes.contains(0x0D))
        let root = try JSONDocument(bytes: bytes).root
        #expect(root["identifiers"]?[index: 0]?["value"]?.string == "quote\"back\\slash")
        #expect(root["traits"]?["we\"ird"]?.string == "tab\there")
        #expect(root["traits"]?["nested"]?["list"]?.elements.map { $0.int } == [1, 2])
        #expect(root["journey"]?[index: 0]?["message_id"]?.string == "line\nbreak")
        #expect(root["journey"]?[index: 0]?["properties"]?["nested"]?["list"]?.count == 2)
    }
}
