import Synchronization
import Testing
@testable import JourneyCore

private typealias T = TestEvents

/// Re-resolution, shared identifiers, splits, erasure and their persistence (issue 7).
@Suite("Identity resolution")
struct IdentityResolutionTests {
    private let at = Timestamp(millisecondsSinceEpoch: T.base + 1_000_000)

    /// Ada and Bob share a family tablet; events of either can arrive late.
    private var household: [NormalisedEvent] {
        [
            T.event("h1", at: 100, ids: [T.device("tablet"), T.anon("tab-anon")]),
            T.event("h2", at: 200, ids: [T.user("ada"), T.device("tablet")]),
            T.event("h3", at: 300, ids: [T.user("bob"), T.device("tablet")]),
            T.event("h4", at: 400, ids: [T.device("tablet"), T.anon("tab-anon")]),
            T.event("h5", at: 500, ids: [T.user("bob"), T.email("bob@example.com")]),
        ]
    }

    // MARK: re-resolution

    @Test func aLateEventInAHouseholdGivesTheCanonicalProfiles() {
        let reference = Population.run(household, policy: T.defaultPolicy())
        // In canonical order the tablet's first events are Ada's (h2 joins her user id to the
        // tablet's profile); Bob's login is refused.
        #expect(reference.stitcher.owner(T.user("ada")) == T.pid("h1"))
        #expect(reference.stitcher.owner(T.user("bob")) == T.pid("h3"))
        #expect(reference.stitcher.counters.blockedMerges == 1)
        // Bob's login arriving first would, greedily, give the tablet to Bob; re-resolution puts
        // it back where the canonical order says.
        let bobFirst = Population.run([household[2], household[4], household[0], household[3], household[1]], policy: T.defaultPolicy())
        #expect(bobFirst.tables == reference.tables)
        #expect(bobFirst.stitcher.counters.reResolutions > 0)
        // Ids handed out on the way still resolve.
        #expect(bobFirst.issuedIDs.allSatisfy { bobFirst.stitcher.resolve(profileID: $0) != nil })
    }

    @Test func reResolutionOnlyTouchesTheComponent() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        stitcher.applyAll(household)
        stitcher.applyAll((0..<20).map { T.event("x\($0)", at: 1000 + Int64($0), ids: [T.anon("stranger-\($0 % 4)")]) })
        // Two strangers' browsers joined by a login: a component built with a merge.
        stitcher.applyAll([T.event("x-login", at: 1100, ids: [T.user("joined"), T.anon("stranger-2"), T.anon("stranger-3")])])
        let before = stitcher.counters.reResolvedTouchpoints
        // A late event of the household: only its five touchpoints (and the new one) are replayed.
        stitcher.applyAll([T.event("h0", at: 50, ids: [T.device("tablet")])])
        #expect(stitcher.counters.reResolvedTouchpoints - before == 6)
        // A late event of a stranger whose profile was built without merges or refusals joins it
        // in place: nothing is replayed.
        stitcher.applyAll([T.event("x-late", at: 900, ids: [T.anon("stranger-1")])])
        #expect(stitcher.counters.reResolvedTouchpoints - before == 6)
        #expect(stitcher.messageIDs(of: T.pid("x-late")).count == 6)
        // One of the joined pair: its eleven touchpoints (and the new one) are replayed.
        stitcher.applyAll([T.event("x-late-2", at: 950, ids: [T.anon("stranger-3")])])
        #expect(stitcher.counters.reResolvedTouchpoints - before == 6 + 12)
        #expect(stitcher.counters.reResolutions == 2)
    }

    @Test func aLateEventIntoAMergedProfileJoinsInPlaceOnlyWhenAnEarlierTouchpointCarriedItsIdentifiers() {
        // Two browsers joined by a login at 1100, then one more event at 1200.
        let built = (0..<20).map { T.event("x\($0)", at: 1000 + Int64($0), ids: [T.anon("stranger-\($0 % 4)")]) } + [
            T.event("x-login", at: 1100, ids: [T.user("joined"), T.anon("stranger-2"), T.anon("stranger-3")]),
            T.event("x-last", at: 1200, ids: [T.anon("stranger-2")]),
        ]
        let late = [
            // x3 (1003) carried stranger-3 before this place: joins in place.
            T.event("y1", at: 1050, ids: [T.anon("stranger-3")]),
            // The login (1100) carried both: joins in place.
            T.event("y2", at: 1150, ids: [T.user("joined"), T.anon("stranger-3")]),
            // No touchpoint before 1050 carried both browsers: in canonical order this event joins
            // them 50 ms before the login does, so the component is re-resolved.
            T.event("y3", at: 1050, ids: [T.anon("stranger-2"), T.anon("stranger-3")]),
        ]
        var stitcher = Stitcher(policy: T.defaultPolicy())
        stitcher.applyAll(built)
        #expect(stitcher.counters.merges == 1)
        stitcher.applyAll(Array(late.prefix(2)))
        #expect(stitcher.counters.reResolutions == 0)
        stitcher.applyAll([late[2]])
        #expect(stitcher.counters.reResolutions == 1)
        let canonical = Population.run(
            (built + late).sorted { ($0.timestamp.millisecondsSinceEpoch, $0.messageID) < ($1.timestamp.millisecondsSinceEpoch, $1.messageID) },
            policy: T.defaultPolicy())
        #expect(Population.tables(of: stitcher) == canonical.tables)
        #expect(stitcher.messageIDs(of: T.pid("x2")).count == 15)
    }

    @Test func theAliasReadingFollowsTheCanonicalOrder() {
        // "legacy" is used as a user id at 300; the alias at 200 comes before that, so it reads
        // "legacy" as an anonymous id, whatever order the two arrive in.
        let events = [
            T.event("a1", at: 100, ids: [T.user("new")]),
            T.event("a2", at: 200, type: .alias, name: nil, ids: [T.user("new")], alias: "legacy"),
            T.event("a3", at: 300, ids: [T.user("legacy")]),
        ]
        let inOrder = Population.run(events, policy: T.defaultPolicy())
        #expect(inOrder.stitcher.owner(T.anon("legacy")) == T.pid("a1"))
        #expect(inOrder.stitcher.owner(T.user("legacy")) == T.pid("a3"))
        let userFirst = Population.run([events[2], events[0], events[1]], policy: T.defaultPolicy())
        #expect(userFirst.tables == inOrder.tables)
        // Used as a user id before the alias: then it is that user id (refused under user_id 1).
        let earlier = [events[0], events[1], T.event("a3", at: 150, ids: [T.user("legacy")])]
        let aliasOfUser = Population.run(earlier, policy: T.defaultPolicy())
        #expect(aliasOfUser.stitcher.owner(T.anon("legacy")) == nil)
        #expect(aliasOfUser.stitcher.merges.map(\.reason) == [.limit(.userID)])
    }

    @Test func aCappedProfileKeepsItsIdAndFirstSeenWhenReResolved() {
        var stitcher = Stitcher(policy: T.defaultPolicy(), maxTouchpointsPerProfile: 3)
        for index in 1...5 { _ = stitcher.apply(T.event("c\(index)", at: Int64(index) * 100, ids: [T.anon("a"), T.device("d")])) }
        #expect(stitcher.record(for: T.pid("c1"))?.droppedTouchpoints == 2)
        // A late event in the middle: the component is re-resolved from the retained history.
        _ = stitcher.apply(T.event("c-mid", at: 450, ids: [T.anon("a")], phase: .buy))
        let record = stitcher.record(for: T.pid("c1"))
        #expect(record != nil)
        #expect(record?.firstSeen == T.base + 100)
        #expect(stitcher.messageIDs(of: T.pid("c1")) == ["c4", "c-mid", "c5"])
        #expect(record?.droppedTouchpoints == 3)
        #expect(stitcher.owner(T.device("d")) == T.pid("c1"))
        #expect(stitcher.counters.reResolutions == 1)
    }

    // MARK: shared identifiers

    @Test func aDeviceSeenWithFiveUserIdsIsFlaggedAndStopsLinking() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        for index in 0..<4 { _ = stitcher.apply(T.event("k\(index)", at: Int64(index) * 100, ids: [T.user("u\(index)"), T.device("kiosk")])) }
        // Four user ids: not yet shared; merge protection keeps them apart, the kiosk is u0's.
        #expect(stitcher.sharedIdentifierCount == 0 && stitcher.takeNotices().isEmpty)
        #expect(stitcher.owner(T.device("kiosk")) == T.pid("k0"))
        _ = stitcher.apply(T.event("k4", at: 400, ids: [T.user("u4"), T.device("kiosk")]))
        #expect(stitcher.sharedIdentifierCount == 1)
        let notices = stitcher.takeNotices()
        #expect(notices == [.identifierFlaggedShared(type: .deviceID, valueHash: Stitcher.valueHash(T.device("kiosk")), userIDs: 5)])
        #expect(!Stitcher.valueHash(T.device("kiosk")).contains("kiosk") && Stitcher.valueHash(T.device("kiosk")).utf8.count == 16)
        // Re-resolved without it: no refused merge is left, and an event with the kiosk and a new
        // anonymous id joins nobody through the kiosk.
        #expect(stitcher.counters.blockedMerges == 0)
        _ = stitcher.apply(T.event("k5", at: 500, ids: [T.device("kiosk"), T.anon("walk-in")]))
        #expect(stitcher.owner(T.anon("walk-in")) == T.pid("k5"))
        // An event carrying only the kiosk still has a home: the profile of kiosk-only events.
        let alone = stitcher.apply(T.event("k6", at: 600, ids: [T.device("kiosk")]))
        #expect(alone.profileID != nil)
        let listed = stitcher.sharedIdentifierList
        #expect(listed.map(\.identifier) == [T.device("kiosk")] && listed[0].userIDs == 5 && !listed[0].declared)
    }

    @Test func sharedThresholdsAreConfigurablePerType() throws {
        let policy = try IdentityPolicy(sharedThresholdOverrides: [.deviceID: 2, .anonymousID: 0])
        #expect(policy.sharedThreshold(for: .deviceID) == 2)
        #expect(policy.sharedThreshold(for: .anonymousID) == nil)
        #expect(policy.sharedThreshold(for: .email) == IdentityPolicy.defaultSharedThreshold)
        #expect(policy.sharedThreshold(for: .userID) == nil)
        var stitcher = Stitcher(policy: policy)
        stitcher.applyAll([
            T.event("s1", at: 100, ids: [T.user("u1"), T.device("d"), T.anon("x")]),
            T.event("s2", at: 200, ids: [T.user("u2"), T.device("d"), T.anon("x")]),
        ])
        #expect(stitcher.sharedIdentifierList.map(\.identifier) == [T.device("d")])
        #expect(throws: IdentityPolicyError.sharedThresholdOnUserID) { try IdentityPolicy(sharedThresholdOverrides: [.userID: 3]) }
        #expect(throws: IdentityPolicyError.sharedThresholdTooLow(.email)) { try IdentityPolicy(sharedThresholdOverrides: [.email: 1]) }
    }

    // MARK: splits

    /// Two people who never logged in, joined through a browser they both used.
    private func joinedThroughABrowser() -> Stitcher {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        stitcher.applyAll([
            T.event("p1", at: 100, ids: [T.email("ann@example.com"), T.anon("shared-browser")]),
            T.event("p2", at: 200, ids: [T.email("ben@example.com"), T.anon("ben-phone")]),
            T.event("p3", at: 300, ids: [T.anon("shared-browser"), T.anon("ben-phone")]),
            T.event("p4", at: 400, ids: [T.anon("ben-phone")]),
        ])
        return stitcher
    }

    @Test func declaringAnIdentifierSharedSplitsTheProfile() throws {
        var stitcher = joinedThroughABrowser()
        #expect(stitcher.profileCount == 1 && stitcher.record(for: T.pid("p1"))?.mergedFrom == [T.pid("p2")])
        let result = try stitcher.perform(.splitSharing(T.pid("p1"), T.anon("shared-browser")), at: at)
        // p3 carried only the browser and Ben's phone: without the browser it is Ben's.
        #expect(result == .split(Stitcher.Split(profileID: T.pid("p1"), profiles: [T.pid("p1"), T.pid("p2")].sorted())))
        #expect(stitcher.messageIDs(of: T.pid("p1")) == ["p1"])
        #expect(stitcher.messageIDs(of: T.pid("p2")) == ["p2", "p3", "p4"])
        #expect(stitcher.merges.last == MergeRecord(from: T.pid("p1"), into: T.pid("p2"), at: at, messageID: nil, reason: .split(.identifier)))
        #expect(stitcher.sharedIdentifierList.map(\.declared) == [true])
        // Later events with the browser do not link it either.
        _ = stitcher.apply(T.event("p5", at: 500, ids: [T.anon("shared-browser"), T.email("ben@example.com")]))
        #expect(stitcher.profileCount == 2 && stitcher.messageIDs(of: T.pid("p2")).last == "p5")
        #expect(stitcher.counters.splits == 1)
    }

    @Test func undoingAMergeKeepsTheTwoApartFromThenOn() throws {
        var stitcher = joinedThroughABrowser()
        let result = try stitcher.perform(.splitUndoingMerge(T.pid("p1"), from: T.pid("p2")), at: at)
        #expect(result == .split(Stitcher.Split(profileID: T.pid("p1"), profiles: [T.pid("p1"), T.pid("p2")].sorted())))
        // The joining event now goes with its highest-priority identifier's profile (Ann's
        // browser; both are anonymous ids, "ben-phone" < "shared-browser"… so Ben's), and the
        // join is recorded as refused.
        #expect(stitcher.profileCount == 2)
        let refused = stitcher.merges.filter { $0.reason == .keptApart }
        #expect(refused.count == 1 && refused[0].blocked && refused[0].messageID == "p3")
        #expect(stitcher.merges.contains { $0.reason == .split(.merge) })
        // A later event carrying both sides again is refused too.
        _ = stitcher.apply(T.event("p6", at: 600, ids: [T.email("ann@example.com"), T.email("ben@example.com")]))
        #expect(stitcher.profileCount == 2)
        #expect(stitcher.merges.filter { $0.reason == .keptApart }.count == 2)
    }

    @Test func impossibleOperationsAreRefusedWithAReason() {
        var stitcher = joinedThroughABrowser()
        let nobody = ProfileID(value: 7)
        #expect(throws: StitcherOperationError.notFound("no profile with id \(nobody)")) { try stitcher.check(.erase(nobody, suppress: false)) }
        #expect(throws: StitcherOperationError.self) { try stitcher.check(.splitSharing(T.pid("p1"), T.anon("not-hers"))) }
        #expect(throws: StitcherOperationError.self) { try stitcher.check(.splitUndoingMerge(T.pid("p1"), from: T.pid("p4"))) }
        #expect(throws: StitcherOperationError.self) { try stitcher.check(.eraseIdentifier(T.email("nobody@example.com"), suppress: true)) }
        // An absorbed id names its profile.
        #expect((try? stitcher.check(.erase(T.pid("p2"), suppress: false))) != nil)
        // Nothing was changed by the checks.
        #expect(stitcher.profileCount == 1 && stitcher.counters.splits == 0 && stitcher.counters.erasures == 0)
        #expect(throws: StitcherOperationError.self) { _ = try stitcher.perform(.erase(nobody, suppress: false), at: at) }
    }

    // MARK: erasure

    @Test func erasureForgetsTheProfileAndReResolvesTheRest() throws {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        stitcher.applyAll(household)
        let ada = try #require(stitcher.owner(T.user("ada")))
        let locations = stitcher.record(for: ada)!.touchpoints.map(\.payload)
        let indexedBefore = stitcher.identifierIDs.count
        let result = try stitcher.perform(.erase(ada, suppress: false), at: at)
        guard case .erased(let erasure) = result else {
            Issue.record("not an erasure")
            return
        }
        #expect(erasure.profileID == ada && erasure.touchpoints == 3 && erasure.suppressed == 0)
        // Gone from the graph, the dedup index and memory.
        #expect(stitcher.resolve(profileID: ada) == nil)
        #expect(stitcher.owner(T.user("ada")) == nil && stitcher.owner(T.device("tablet")) == nil)
        #expect(stitcher.identifierID(of: T.user("ada")) == nil && stitcher.identifierID(of: T.device("tablet")) == nil)
        #expect(stitcher.identifierIDs.count == indexedBefore - stitcher.identifierList.count { $0.value.isEmpty })
        #expect(!(0..<stitcher.identifierList.count).contains { stitcher.identifierList[$0].value == "ada" })
        for location in locations {
            #expect(stitcher.payloads.withBytes(at: location) { bytes in bytes.prefix(TouchpointPayload.headerSize + 2).allSatisfy { $0 == 0 } })
        }
        // Bob's profile was re-resolved from its own events, none of which mentions Ada.
        #expect(stitcher.messageIDs(of: T.pid("h3")) == ["h3", "h5"])
        #expect(stitcher.counters.blockedMerges == 0 && stitcher.counters.erasures == 1)
        let tables = Population.tables(of: stitcher)
        #expect(!tables.values.joined().contains { $0.contains("ada") || $0.contains(ada.description) })
        // Without suppression the same events are taken again, as a new customer.
        #expect(!stitcher.isSuppressed(household[1]))
        #expect(stitcher.apply(household[1]) != .duplicate)
    }

    @Test func erasureWithSuppressionRefusesLaterEvents() throws {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        stitcher.applyAll(household)
        let result = try stitcher.perform(.eraseIdentifier(T.email("bob@example.com"), suppress: true), at: at)
        guard case .erased(let erasure) = result else {
            Issue.record("not an erasure")
            return
        }
        #expect(erasure.profileID == T.pid("h3") && erasure.suppressed == 2)
        #expect(stitcher.isSuppressed(T.event("later", at: 900, ids: [T.anon("x"), T.user("bob")])))
        #expect(stitcher.isSuppressed(T.event("later", at: 900, type: .alias, name: nil, ids: [T.user("z")], alias: "bob")))
        #expect(!stitcher.isSuppressed(T.event("later", at: 900, ids: [T.user("ada")])))
        #expect(stitcher.suppressedCount == 2)
    }

    // MARK: persistence

    /// A stitcher with every kind of state: capped profiles, superseded ids, shared identifiers
    /// (automatic and declared), a split rule, an erasure with suppression.
    private func everything() throws -> Stitcher {
        var stitcher = Stitcher(policy: T.defaultPolicy(), maxTouchpointsPerProfile: 4)
        // Evidence naming an identifier interned after it (the user id comes later).
        stitcher.applyAll([T.event("early-device", at: 1, ids: [T.device("seen-first")])])
        stitcher.applyAll(household)
        stitcher.applyAll([T.event("later-user", at: 2, ids: [T.device("seen-first"), T.user("joins-later")])])
        stitcher.applyAll((0..<6).map { T.event("k\($0)", at: 1000 + Int64($0), ids: [T.user("kiosk-user-\($0)"), T.device("kiosk")]) })
        stitcher.applyAll([
            T.event("p1", at: 100, ids: [T.email("ann@example.com"), T.anon("shared-browser")], traits: [("plan", #""gold""#)]),
            T.event("p2", at: 200, ids: [T.email("ben@example.com"), T.anon("ben-phone")]),
            T.event("p3", at: 300, ids: [T.anon("shared-browser"), T.anon("ben-phone")]),
            T.event("p0", at: 50, ids: [T.anon("ben-phone")]),
            T.event("q1", at: 10, ids: [T.email("cat@example.com"), T.anon("cat-browser")]),
            T.event("q2", at: 20, ids: [T.email("dan@example.com"), T.anon("dan-browser")]),
            T.event("q3", at: 30, ids: [T.anon("cat-browser"), T.anon("dan-browser")]),
        ])
        for index in 0..<7 { _ = stitcher.apply(T.event("r\(index)", at: 2000 + Int64(index), ids: [T.anon("regular")])) }
        _ = try stitcher.perform(.splitUndoingMerge(T.pid("q1"), from: T.pid("q2")), at: at)
        _ = try stitcher.perform(.splitSharing(stitcher.owner(T.anon("ben-phone"))!, T.anon("shared-browser")), at: at)
        _ = try stitcher.perform(.erase(stitcher.owner(T.user("ada"))!, suppress: true), at: at)
        return stitcher
    }

    @Test func theCheckpointRestoresEveryPartOfTheState() throws {
        let original = try everything()
        #expect(original.sharedIdentifierCount == 2 && original.suppressedCount > 0 && original.counters.touchpointsDroppedOverCap > 0)
        #expect(original.merges.contains { $0.reason == .superseded } && original.merges.contains { $0.reason == .keptApart })
        var restored = try Self.roundTrip(original)
        var continued = original
        #expect(Population.tables(of: restored) == Population.tables(of: continued))
        #expect(restored.counters == continued.counters)
        #expect(restored.suppressedCount == continued.suppressedCount)
        // Both go on the same way: a late event, a split rule at work, a suppressed event, a
        // shared identifier that no longer links.
        let later = [
            T.event("z1", at: 5, ids: [T.anon("ben-phone"), T.email("ann@example.com")]),
            T.event("z2", at: 3000, ids: [T.email("cat@example.com"), T.email("dan@example.com")]),
            T.event("z3", at: 3001, ids: [T.device("kiosk"), T.anon("walk-in")]),
            T.event("z4", at: 1500, ids: [T.anon("regular")]),
        ]
        for event in later {
            #expect(restored.apply(event) == continued.apply(event))
        }
        #expect(restored.isSuppressed(household[1]) && continued.isSuppressed(household[1]))
        #expect(Population.tables(of: restored) == Population.tables(of: continued))
        #expect(restored.counters == continued.counters)
    }

    /// The decoder writes payloads into the blocks it is handed (the loader's pre-mapped ones),
    /// one per block it needs, and the state comes back whole.
    @Test func theCheckpointDecoderFillsThePayloadBlocksItIsHanded() throws {
        var original = Stitcher(policy: T.defaultPolicy())
        let padding = String(repeating: "p", count: 3_000)
        original.applyAll((0..<1_000).map { T.event("b\($0)", at: Int64($0), ids: [T.anon("b\($0 % 40)")], properties: #"{"pad":"\#(padding)"}"#) })
        var bytes: [UInt8] = []
        try original.writeCheckpoint { bytes += $0 }
        var supplied = 0
        var decoder = CheckpointRecordDecoder {
            supplied += 1
            var block: [UInt8] = []
            block.reserveCapacity(CheckpointRecordDecoder.payloadBlockBytes)
            return block
        }
        var assembler = StitcherCheckpointAssembler(policy: original.policy, maxTouchpointsPerProfile: original.maxTouchpointsPerProfile)
        for record in try decoder.consume(bytes) { assembler.apply(record) }
        try decoder.finish()
        let restored = try assembler.finish()
        // About 3 MB of payloads of 3 KB: every byte sits in a block the supplier made.
        #expect(supplied >= 3 && supplied * PayloadArena.blockSize >= restored.payloads.byteCount)
        #expect(Population.tables(of: restored) == Population.tables(of: original))
    }

    /// Live ingest writes payloads into the blocks the stitcher is handed (the daemon's
    /// pre-mapped ones), one per block it needs; the state is the same as without a supplier.
    @Test func theStitcherStoresNewPayloadsInTheBlocksItIsHanded() throws {
        let padding = String(repeating: "p", count: 3_000)
        let events = (0..<1_000).map { T.event("s\($0)", at: Int64($0), ids: [T.anon("s\($0 % 40)")], properties: #"{"pad":"\#(padding)"}"#) }
        let supplied = Mutex(0)
        var handed = Stitcher(policy: T.defaultPolicy())
        handed.newPayloadBlock = {
            supplied.withLock { $0 += 1 }
            var block: [UInt8] = []
            block.reserveCapacity(PayloadArena.blockSize)
            return block
        }
        handed.applyAll(events)
        var plain = Stitcher(policy: T.defaultPolicy())
        plain.applyAll(events)
        let blocks = supplied.withLock { $0 }
        // About 3 MB of payloads of 3 KB: one block asked for per 1 MiB filled (less a block's
        // tail that a payload did not fit in).
        let bytes = handed.payloads.byteCount
        #expect(blocks >= 3 && (blocks - 1) * PayloadArena.blockSize < bytes && bytes <= blocks * PayloadArena.blockSize)
        #expect(Population.tables(of: handed) == Population.tables(of: plain))
        #expect(handed.apply(events) == events.count)
    }

    @Test func aRestoredStitcherReResolvesWhereTheOriginalWould() throws {
        // Components built with a merge, a refusal and an alias: after a checkpoint load, late
        // events into them must still be re-resolved, not joined in place.
        var original = Stitcher(policy: T.defaultPolicy())
        original.applyAll(household)
        original.applyAll([
            T.event("j1", at: 100, ids: [T.anon("laptop")]), T.event("j2", at: 200, ids: [T.anon("phone")]),
            T.event("j3", at: 300, ids: [T.user("jo"), T.anon("laptop"), T.anon("phone")]),
            T.event("a1", at: 100, ids: [T.user("al")]), T.event("a2", at: 300, type: .alias, name: nil, ids: [T.user("al")], alias: "al-old"),
        ])
        var restored = try Self.roundTrip(original)
        let late = [
            T.event("j0", at: 50, ids: [T.anon("phone")]), T.event("h0", at: 50, ids: [T.device("tablet")]),
            T.event("a0", at: 50, ids: [T.anon("al-old")]),
        ]
        let before = (original.counters.reResolutions, restored.counters.reResolutions)
        for event in late {
            #expect(restored.apply(event) == original.apply(event))
        }
        #expect(original.counters.reResolutions - before.0 == 3)
        #expect(restored.counters.reResolutions - before.1 == 3)
        #expect(Population.tables(of: restored) == Population.tables(of: original))
    }

    @Test func aCheckpointWhoseEvidenceNamesAMissingIdentifierIsRefused() throws {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        stitcher.applyAll([T.event("d", at: 1, ids: [T.device("seen-first")]), T.event("u", at: 2, ids: [T.device("seen-first"), T.user("later")])])
        var bytes: [UInt8] = []
        try stitcher.writeCheckpoint { bytes += $0 }
        // Claim one identifier fewer in the header: the evidence now names one past the end.
        var reader = BinaryReader(bytes[...])
        let length = Int(try reader.varint())
        var body = Array(bytes[reader.position..<(reader.position + length)])
        let rest = bytes[(reader.position + length)...]
        var header = BinaryReader(body[...])
        _ = try header.u8()
        _ = try header.u32()
        for _ in 0..<2 { _ = try header.varint() }
        let countAt = header.position
        #expect(body[countAt] == 2)
        body[countAt] = 1
        var damaged = BinaryWriter()
        damaged.lengthPrefixed(body)
        let tampered = damaged.bytes + rest
        #expect(throws: BinaryDecodingError.self) { _ = try Self.roundTripBytes(tampered, like: stitcher) }
        #expect(try Self.roundTripBytes(bytes, like: stitcher).identifierCount == 2)
    }

    static func roundTrip(_ stitcher: Stitcher) throws -> Stitcher {
        var bytes: [UInt8] = []
        try stitcher.writeCheckpoint { bytes += $0 }
        return try roundTripBytes(bytes, like: stitcher)
    }

    static func roundTripBytes(_ bytes: [UInt8], like stitcher: Stitcher) throws -> Stitcher {
        var decoder = CheckpointRecordDecoder()
        var assembler = StitcherCheckpointAssembler(policy: stitcher.policy, maxTouchpointsPerProfile: stitcher.maxTouchpointsPerProfile)
        // Fed in odd-sized pieces, as a file reader would.
        for start in stride(from: 0, to: bytes.count, by: 777) {
            for record in try decoder.consume(bytes[start..<min(start + 777, bytes.count)]) { assembler.apply(record) }
        }
        try decoder.finish()
        return try assembler.finish()
    }

    @Test func operationsRoundTripThroughTheirWALEncoding() throws {
        let operations: [StitcherOperation] = [
            .erase(ProfileID(value: 1), suppress: true), .erase(ProfileID(value: .max), suppress: false),
            .eraseIdentifier(T.email("é@example.com"), suppress: true), .splitSharing(ProfileID(value: 3), T.device("d")),
            .splitUndoingMerge(ProfileID(value: 4), from: ProfileID(value: 5)),
        ]
        for operation in operations {
            let recorded = RecordedOperation(operation, at: at)
            var writer = BinaryWriter()
            recorded.encode(into: &writer)
            var reader = BinaryReader(writer.bytes[...])
            #expect(try RecordedOperation(decoding: &reader) == recorded)
            var cut = BinaryReader(writer.bytes.dropLast())
            #expect(throws: BinaryDecodingError.self) { try RecordedOperation(decoding: &cut) }
            #expect(!operation.summary.contains("é@example.com"))
        }
    }

    // MARK: ids

    @Test func profileIdsParseAndPrint() {
        let id = T.pid("m1")
        #expect(ProfileID(id.description) == id)
        #expect(id.description == T.expectedProfileID(messageID: "m1"))
        for bad in ["", "p_", "p_123", "P_0000000000000000", "p_000000000000000g", "p_00000000000000000"] { #expect(ProfileID(bad) == nil) }
        var writer = JSONWriter()
        writer.profileID(ProfileID(value: 0xABC))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""p_0000000000000abc""#)
    }
}
