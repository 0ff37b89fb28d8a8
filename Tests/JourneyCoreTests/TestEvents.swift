import Testing
@testable import JourneyCore

/// Shared builders for the JourneyCore unit tests: timestamps, identifiers, normalised events,
/// a JSON-to-`NormalisedEvent` shortcut and a deterministic PRNG.
enum TestEvents {
    /// Milliseconds of 2026-01-01T00:00:00Z, a convenient base for event times.
    /// (56 years of 365 days plus the 14 leap days 1972…2024 = 20,454 days.)
    static let base: Int64 = 20_454 * 86_400_000

    static let web = SourceInfo(name: "website", channel: "web")
    static let app = SourceInfo(name: "ios-app", channel: "mobile")
    static let callCentre = SourceInfo(name: "call-centre", channel: "call_center")

    /// A timestamp parsed from RFC 3339 text; records an issue (and returns the epoch) if it does not parse.
    static func time(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Timestamp {
        guard let parsed = Timestamp(rfc3339: text) else {
            Issue.record("\"\(text)\" did not parse", sourceLocation: sourceLocation)
            return Timestamp(millisecondsSinceEpoch: 0)
        }
        return parsed
    }

    /// A normalised event built directly (bypassing the JSON normaliser), for stitcher tests.
    static func event(
        _ messageID: String, at offset: Int64, source: SourceInfo = web, type: EventType = .track,
        name: String? = "Product Viewed", ids: [Identifier], alias previous: String? = nil, phase: Phase? = nil,
        properties: String? = nil, traits: [(String, String)] = []
    ) -> NormalisedEvent {
        NormalisedEvent(
            messageID: messageID, source: source.name, channel: source.channel, type: type, name: name,
            timestamp: Timestamp(millisecondsSinceEpoch: base + offset),
            receivedAt: Timestamp(millisecondsSinceEpoch: base + offset + 5), identifiers: ids,
            aliasPreviousID: previous, phase: phase, properties: properties.map { Array($0.utf8)[...] } ?? [],
            traits: traits.map { TraitValue(key: $0.0, json: Array($0.1.utf8)) })
    }

    static func user(_ value: String) -> Identifier { Identifier(type: .userID, value: value) }
    static func anon(_ value: String) -> Identifier { Identifier(type: .anonymousID, value: value) }
    static func device(_ value: String) -> Identifier { Identifier(type: .deviceID, value: value) }
    static func email(_ value: String) -> Identifier { Identifier(type: .email, value: value) }
    static func phone(_ value: String) -> Identifier { Identifier(type: .phone, value: value) }

    /// The default merge-protection policy (user_id 1, email 5, phone 5).
    static func defaultPolicy() -> IdentityPolicy {
        // The default initialiser cannot throw with no custom types or overrides.
        (try? IdentityPolicy())!
    }

    /// A policy with no limits at all (every type unlimited).
    static func unlimitedPolicy() -> IdentityPolicy {
        (try? IdentityPolicy(limitOverrides: [.userID: 0, .email: 0, .phone: 0]))!
    }

    /// The profile id a profile whose earliest touchpoint is (`source`, `messageID`) must have:
    /// recomputed here from the documented derivation (FNV-1a 64 of source, 0xff, message id).
    /// `expectedProfileID` as the stitcher's type.
    static func profileID(source: String = web.name, messageID: String) -> ProfileID {
        ProfileID(expectedProfileID(source: source, messageID: messageID))!
    }

    /// The id of the profile whose first touchpoint is `messageID` from `source`.
    static func pid(_ messageID: String, source: SourceInfo = web) -> ProfileID {
        profileID(source: source.name, messageID: messageID)
    }

    static func expectedProfileID(source: String = web.name, messageID: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Array(source.utf8) + [0xff] + Array(messageID.utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "p_" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Parses `json` and runs it through an `EventNormaliser`.
struct NormaliserHarness {
    var settings = EventNormaliser.Settings()
    var source = TestEvents.web
    var receivedAt = TestEvents.time("2026-03-01T12:00:00.000Z")
    var batchContext: String?
    var batchSentAt: Timestamp?
    var impliedType: EventType?

    func normalise(_ json: String) throws -> NormalisedEvent {
        let document = try JSONDocument(string: json)
        let context = try batchContext.map { try JSONDocument(string: $0).root }
        let envelope = EventNormaliser.Envelope(
            source: source, receivedAt: receivedAt, batchContext: context, batchSentAt: batchSentAt,
            impliedType: impliedType)
        return try EventNormaliser(settings: settings).normalise(document.root, envelope: envelope)
    }

    /// The rejection message for `json`, or nil if it was accepted (records an issue if the JSON itself is bad).
    func rejection(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do {
            _ = try normalise(json)
            return nil
        } catch let rejection as EventRejection {
            return rejection.message
        } catch {
            Issue.record("test JSON did not parse: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

/// SplitMix64: a tiny deterministic PRNG so random tests are reproducible from their seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Stitcher {
    /// Applies the events in order and returns each outcome.
    @discardableResult
    mutating func applyAll(_ events: [NormalisedEvent]) -> [Outcome] {
        events.map { apply($0) }
    }

    /// The current profile id of the profile holding `identifier`, via the public lookup.
    func owner(_ identifier: Identifier) -> ProfileID? { profileID(for: identifier) }

    /// Message ids stored in the profile with this (live) id, in journey order.
    func messageIDs(of profileID: ProfileID) -> [String] {
        record(for: profileID)?.touchpoints.map { payloads.messageID(of: $0) } ?? []
    }

    /// The partition of stored message ids into profiles, keyed by profile id.
    func partition(ids profileIDs: some Sequence<ProfileID>) -> [ProfileID: Set<String>] {
        var result: [ProfileID: Set<String>] = [:]
        for id in profileIDs { result[id] = Set(messageIDs(of: id)) }
        return result
    }

    /// The rows of `merges.jsonl.gz`, in their order.
    var merges: [MergeRecord] {
        var rows: [MergeRecord] = []
        let order = slotByProfileID.entries.sorted { $0.key < $1.key }.map(\.value)
        forEachMergeRow(profileOrder: order) { rows.append($0) }
        return rows
    }
}

extension Outcome {
    var profileID: ProfileID? {
        if case .stored(let id) = self { return id }
        return nil
    }
}

typealias Outcome = Stitcher.Outcome
