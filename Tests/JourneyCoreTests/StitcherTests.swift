import Testing
@testable import JourneyCore

private typealias T = TestEvents

@Suite("Stitcher")
struct StitcherTests {
    // MARK: merging and profile ids

    @Test func newProfileIdDerivesFromItsFirstTouchpoint() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        let outcome = stitcher.apply(T.event("m1", at: 100, ids: [T.anon("a1")]))
        #expect(outcome == .stored(profileID: T.pid("m1")))
        #expect(stitcher.owner(T.anon("a1")) == T.pid("m1"))
        #expect(stitcher.profileCount == 1 && stitcher.identifierCount == 1 && stitcher.touchpointCount == 1)
        // The source is part of the derivation.
        var other = Stitcher(policy: T.defaultPolicy())
        #expect(other.apply(T.event("m1", at: 100, source: T.app, ids: [T.anon("a1")])) == .stored(profileID: T.pid("m1", source: T.app)))
        #expect(T.pid("m1") != T.pid("m1", source: T.app))
    }

    @Test func eventsSharingAnIdentifierJoinOneProfile() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.anon("a1")]))
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.anon("a1"), T.device("d1")]))
        let outcome = stitcher.apply(T.event("m3", at: 300, ids: [T.device("d1")]))
        #expect(outcome == .stored(profileID: T.pid("m1")))
        #expect(stitcher.profileCount == 1)
        #expect(stitcher.messageIDs(of: T.pid("m1")) == ["m1", "m2", "m3"])
        #expect(stitcher.owner(T.device("d1")) == T.pid("m1"))
        // Adopting a new identifier is not a merge.
        #expect(stitcher.merges.isEmpty && stitcher.counters.merges == 0)
    }

    /// Two profiles joined by an event: the one with the earliest touchpoint keeps its id,
    /// whichever is bigger, and the absorbed id resolves to it.
    @Test(arguments: [false, true])
    func mergeKeepsTheIdOfTheEarliestProfile(biggerLaterProfile: Bool) {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m-early", at: 100, ids: [T.anon("a1")]))
        _ = stitcher.apply(T.event("m-late", at: 500, ids: [T.user("u1")]))
        if biggerLaterProfile {
            for index in 0..<4 {
                _ = stitcher.apply(T.event("m-more-\(index)", at: 600 + Int64(index), ids: [T.user("u1"), T.device("d\(index)")]))
            }
        }
        let joined = stitcher.apply(T.event("m-join", at: 1000, ids: [T.user("u1"), T.anon("a1")]))
        #expect(joined == .stored(profileID: T.pid("m-early")))
        #expect(stitcher.profileCount == 1)
        #expect(stitcher.resolve(profileID: T.pid("m-late")) == T.pid("m-early"))
        #expect(stitcher.resolve(profileID: T.pid("m-early")) == T.pid("m-early"))
        #expect(stitcher.resolve(profileID: "p_0000000000000000") == nil)
        #expect(stitcher.owner(T.user("u1")) == T.pid("m-early"))
        #expect(stitcher.owner(T.anon("a1")) == T.pid("m-early"))
        let expected = MergeRecord(
            from: T.pid("m-late"), into: T.pid("m-early"), at: Timestamp(millisecondsSinceEpoch: T.base + 1000),
            messageID: "m-join", reason: .sharedIdentifier)
        #expect(stitcher.merges == [expected])
        #expect(!expected.blocked && expected.reason.description == "shared_identifier")
        #expect(stitcher.counters.merges == 1 && stitcher.counters.blockedMerges == 0)
        let record = stitcher.record(for: T.pid("m-early"))
        #expect(record?.mergedFrom == [T.pid("m-late")])
        let journey = stitcher.messageIDs(of: T.pid("m-early"))
        #expect(journey.first == "m-early" && journey.last == "m-join")
        #expect(record?.touchpoints.count == (biggerLaterProfile ? 7 : 3))
        #expect(stitcher.record(for: T.pid("m-late")) == nil)
    }

    @Test func chainedMergesResolveToTheFinalSurvivor() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m3", at: 300, ids: [T.anon("c")]))
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.anon("b")]))
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.anon("a")]))
        _ = stitcher.apply(T.event("m4", at: 400, ids: [T.anon("b"), T.anon("c")]))  // m3's profile into m2's
        _ = stitcher.apply(T.event("m5", at: 500, ids: [T.anon("a"), T.anon("c")]))  // m2's profile into m1's
        #expect(stitcher.profileCount == 1)
        for old in ["m1", "m2", "m3"] { #expect(stitcher.resolve(profileID: T.pid(old)) == T.pid("m1")) }
        #expect(Set(stitcher.record(for: T.pid("m1"))?.mergedFrom ?? []) == [T.pid("m2"), T.pid("m3")])
        #expect(stitcher.merges.map(\.from) == [T.pid("m3"), T.pid("m2")])
        #expect(stitcher.merges.map(\.into) == [T.pid("m2"), T.pid("m1")])
        #expect(stitcher.messageIDs(of: T.pid("m1")) == ["m1", "m2", "m3", "m4", "m5"])
    }

    @Test func oneEventCanJoinSeveralProfiles() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.anon("a")]))
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.device("d")]))
        _ = stitcher.apply(T.event("m3", at: 300, ids: [T.email("x@example.com")]))
        let outcome = stitcher.apply(T.event("m4", at: 400, ids: [T.anon("a"), T.device("d"), T.email("x@example.com")]))
        #expect(outcome == .stored(profileID: T.pid("m1")))
        #expect(stitcher.profileCount == 1 && stitcher.counters.merges == 2)
        #expect(Set(stitcher.merges.map(\.from)) == [T.pid("m2"), T.pid("m3")])
        #expect(stitcher.merges.allSatisfy { $0.into == T.pid("m1") && $0.messageID == "m4" })
    }

    // MARK: merge protection

    @Test(arguments: [IdentifierType.deviceID, .anonymousID])
    func usersSharingADeviceOrAnonymousIdDoNotMerge(shared: IdentifierType) {
        let sharedID = Identifier(type: shared, value: "family-ipad")
        var stitcher = Stitcher(policy: T.defaultPolicy())
        let alice = stitcher.apply(T.event("m-alice", at: 100, ids: [T.user("alice"), sharedID]))
        #expect(alice == .stored(profileID: T.pid("m-alice")))
        let bob = stitcher.apply(T.event("m-bob", at: 200, ids: [T.user("bob"), sharedID]))
        // Bob's event attaches to the profile of its highest-priority identifier (his user id, new).
        #expect(bob == .stored(profileID: T.pid("m-bob")))
        #expect(stitcher.profileCount == 2)
        #expect(stitcher.owner(T.user("alice")) == T.pid("m-alice"))
        #expect(stitcher.owner(T.user("bob")) == T.pid("m-bob"))
        // The shared value stays with the profile that had it.
        #expect(stitcher.owner(sharedID) == T.pid("m-alice"))
        #expect(stitcher.counters.blockedMerges == 1 && stitcher.counters.merges == 0)
        let blocked = MergeRecord(
            from: T.pid("m-alice"), into: T.pid("m-bob"), at: Timestamp(millisecondsSinceEpoch: T.base + 200),
            messageID: "m-bob", reason: .limit(.userID))
        #expect(stitcher.merges == [blocked])
        #expect(blocked.blocked && blocked.reason.description == "limit:user_id")

        // A later event carrying only the shared value goes to its owner.
        #expect(stitcher.apply(T.event("m-3", at: 300, ids: [sharedID])) == .stored(profileID: T.pid("m-alice")))
        // Bob again on the same device, with a new anonymous id: blocked again, attached to Bob, and
        // his new anonymous id is linked to him.
        let again = stitcher.apply(T.event("m-4", at: 400, ids: [T.user("bob"), sharedID, T.anon("bob-browser")]))
        #expect(again == .stored(profileID: T.pid("m-bob")))
        #expect(stitcher.owner(T.anon("bob-browser")) == T.pid("m-bob"))
        #expect(stitcher.counters.blockedMerges == 2)
        #expect(stitcher.messageIDs(of: T.pid("m-alice")) == ["m-alice", "m-3"])
        #expect(stitcher.messageIDs(of: T.pid("m-bob")) == ["m-bob", "m-4"])
    }

    @Test func eventAttachesToItsHighestPriorityIdentifiersProfile() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m-a", at: 100, ids: [T.user("alice"), T.email("alice@example.com")]))
        _ = stitcher.apply(T.event("m-b", at: 200, ids: [T.user("bob"), T.anon("shared-anon")]))
        // email (rank 1) outranks anonymous_id (rank 4): the event goes to Alice, Bob is left apart.
        let outcome = stitcher.apply(T.event("m-c", at: 300, ids: [T.anon("shared-anon"), T.email("alice@example.com")]))
        #expect(outcome == .stored(profileID: T.pid("m-a")))
        #expect(stitcher.merges.last == MergeRecord(
            from: T.pid("m-b"), into: T.pid("m-a"), at: Timestamp(millisecondsSinceEpoch: T.base + 300), messageID: "m-c",
            reason: .limit(.userID)))
        #expect(stitcher.owner(T.anon("shared-anon")) == T.pid("m-b"))
    }

    @Test func newValuesPastALimitAreNotLinked() {
        let policy = (try? IdentityPolicy(limitOverrides: [.email: 2]))!
        var stitcher = Stitcher(policy: policy)
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.user("u"), T.email("one@example.com")]))
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.user("u"), T.email("two@example.com")]))
        #expect(stitcher.owner(T.email("two@example.com")) == T.pid("m1"))
        // A third email for the same user: the event is kept on the profile, the email is not linked.
        let outcome = stitcher.apply(T.event("m3", at: 300, ids: [T.user("u"), T.email("three@example.com")]))
        #expect(outcome == .stored(profileID: T.pid("m1")))
        #expect(stitcher.owner(T.email("three@example.com")) == nil)
        #expect(stitcher.counters.linksRefused == 1 && stitcher.counters.blockedMerges == 0)
        // Two new emails in one event with room for none: both refused.
        _ = stitcher.apply(T.event("m4", at: 400, ids: [T.user("u"), T.email("four@example.com"), T.email("five@example.com")]))
        #expect(stitcher.counters.linksRefused == 3)
        // A second user id in the same event is refused the same way.
        _ = stitcher.apply(T.event("m5", at: 500, ids: [T.user("u"), T.user("v")]))
        #expect(stitcher.owner(T.user("v")) == nil && stitcher.counters.linksRefused == 4)
        #expect(stitcher.profileCount == 1 && stitcher.touchpointCount == 5)
    }

    @Test func emailLimitBlocksJoiningProfiles() {
        let policy = (try? IdentityPolicy(limitOverrides: [.email: 2]))!
        var stitcher = Stitcher(policy: policy)
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.anon("a"), T.email("one@example.com"), T.email("two@example.com")]))
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.device("d"), T.email("three@example.com")]))
        // Joining would give 3 emails: refused; the event goes to the profile of its highest-priority
        // identifier (the email, which outranks the device).
        let outcome = stitcher.apply(T.event("m3", at: 300, ids: [T.email("one@example.com"), T.device("d")]))
        #expect(outcome == .stored(profileID: T.pid("m1")))
        #expect(stitcher.profileCount == 2)
        #expect(stitcher.merges == [MergeRecord(
            from: T.pid("m2"), into: T.pid("m1"), at: Timestamp(millisecondsSinceEpoch: T.base + 300), messageID: "m3",
            reason: .limit(.email))])
        #expect(stitcher.merges[0].reason.description == "limit:email")
        // With the default limit of 5 the same events merge.
        var lenient = Stitcher(policy: T.defaultPolicy())
        _ = lenient.apply(T.event("m1", at: 100, ids: [T.anon("a"), T.email("one@example.com"), T.email("two@example.com")]))
        _ = lenient.apply(T.event("m2", at: 200, ids: [T.device("d"), T.email("three@example.com")]))
        _ = lenient.apply(T.event("m3", at: 300, ids: [T.email("one@example.com"), T.device("d")]))
        #expect(lenient.profileCount == 1 && lenient.counters.merges == 1)
    }

    @Test func unlimitedPolicyMergesSharedDevices() {
        var stitcher = Stitcher(policy: T.unlimitedPolicy())
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.user("alice"), T.device("d")]))
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.user("bob"), T.device("d")]))
        #expect(stitcher.profileCount == 1 && stitcher.counters.blockedMerges == 0)
        #expect(stitcher.owner(T.user("bob")) == T.pid("m1"))
    }

    // MARK: alias

    @Test func aliasLinksAnAnonymousPreviousIdToTheUser() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.anon("anon-1")]))
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.user("u1")]))
        let outcome = stitcher.apply(T.event("m3", at: 300, type: .alias, name: nil, ids: [T.user("u1")], alias: "anon-1"))
        #expect(outcome == .stored(profileID: T.pid("m1")))
        #expect(stitcher.merges.count == 1 && stitcher.merges[0].reason == .alias)
        #expect(stitcher.merges[0].reason.description == "alias")
        #expect(stitcher.owner(T.user("u1")) == T.pid("m1"))
        // The previous id was unknown as a user id, so it was linked as an anonymous id only.
        #expect(stitcher.owner(T.user("anon-1")) == nil)
    }

    @Test func aliasOfAnUnseenPreviousIdCreatesTheAnonymousId() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.user("u1")]))
        _ = stitcher.apply(T.event("m2", at: 200, type: .alias, name: nil, ids: [T.user("u1")], alias: "legacy-7"))
        #expect(stitcher.owner(T.anon("legacy-7")) == T.pid("m1"))
        #expect(stitcher.owner(T.user("legacy-7")) == nil)
        // Later events with that anonymous id join the user.
        #expect(stitcher.apply(T.event("m3", at: 300, ids: [T.anon("legacy-7")])) == .stored(profileID: T.pid("m1")))
        #expect(stitcher.merges.isEmpty)
    }

    @Test func aliasOfAKnownUserIdIsAUserIdLinkUnderMergeProtection() {
        // Default policy: one user id per profile, so aliasing one user id to another is refused.
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.user("old-id")]))
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.user("new-id")]))
        let outcome = stitcher.apply(T.event("m3", at: 300, type: .alias, name: nil, ids: [T.user("new-id")], alias: "old-id"))
        // Both are user ids; equal rank, ordered by value: "new-id" < "old-id", so the event stays with new-id.
        #expect(outcome == .stored(profileID: T.pid("m2")))
        #expect(stitcher.profileCount == 2)
        #expect(stitcher.merges == [MergeRecord(
            from: T.pid("m1"), into: T.pid("m2"), at: Timestamp(millisecondsSinceEpoch: T.base + 300), messageID: "m3",
            reason: .limit(.userID))])
        #expect(stitcher.owner(T.anon("old-id")) == nil)

        // Without a user id limit the alias merges them, recorded as an alias.
        var open = Stitcher(policy: T.unlimitedPolicy())
        _ = open.apply(T.event("m1", at: 100, ids: [T.user("old-id")]))
        _ = open.apply(T.event("m2", at: 200, ids: [T.user("new-id")]))
        #expect(open.apply(T.event("m3", at: 300, type: .alias, name: nil, ids: [T.user("new-id")], alias: "old-id"))
            == .stored(profileID: T.pid("m1")))
        #expect(open.merges.map(\.reason) == [.alias])
        #expect(open.owner(T.anon("old-id")) == nil)
        #expect(open.owner(T.user("new-id")) == T.pid("m1"))
    }

    // MARK: duplicates

    @Test func duplicatesAreStoredOnce() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        let event = T.event("m1", at: 100, ids: [T.anon("a")])
        #expect(stitcher.apply(event) == .stored(profileID: T.pid("m1")))
        #expect(stitcher.apply(event) == .duplicate)
        // Same source and message id with different content is still the same message.
        #expect(stitcher.apply(T.event("m1", at: 999, ids: [T.anon("other")])) == .duplicate)
        #expect(stitcher.touchpointCount == 1 && stitcher.profileCount == 1)
        #expect(stitcher.owner(T.anon("other")) == nil)
        #expect(stitcher.counters.duplicates == 2 && stitcher.counters.eventsStored == 1)
    }

    @Test func sameMessageIdFromAnotherSourceIsNotADuplicate() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m1", at: 100, ids: [T.anon("a")]))
        let outcome = stitcher.apply(T.event("m1", at: 100, source: T.app, ids: [T.anon("a")]))
        #expect(outcome == .stored(profileID: T.pid("m1", source: T.app)))
        #expect(stitcher.touchpointCount == 2 && stitcher.counters.duplicates == 0)
        // Equal time and message id: ordered by source name, "ios-app" < "website".
        #expect(stitcher.record(for: T.pid("m1", source: T.app))?.touchpoints.map { stitcher.sources[$0.sourceIndex] }
            == ["ios-app", "website"])
        #expect(stitcher.resolve(profileID: T.pid("m1")) == T.pid("m1", source: T.app))
    }

    @Test func unstoredEventsNameEachNewMessageOnceAtItsFirstPlace() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("old", at: 50, ids: [T.anon("a")]))
        let batch = [
            T.event("old", at: 50, ids: [T.anon("a")]),
            T.event("m1", at: 100, ids: [T.anon("a")]),
            T.event("m2", at: 110, ids: [T.anon("a")]),
            T.event("m1", at: 120, ids: [T.anon("b")]),
            // Same message id from a source the stitcher has not seen yet: a message of its own.
            T.event("m1", at: 100, source: T.app, ids: [T.anon("a")]),
            T.event("m1", at: 100, source: T.app, ids: [T.anon("a")]),
            T.event("m3", at: 130, source: T.app, ids: [T.anon("c")]),
            T.event("m2", at: 140, ids: [T.anon("c")]),
        ]
        var lookedUpOnce = stitcher
        let unstored = lookedUpOnce.unstored(in: batch)
        #expect(unstored.indices == [1, 2, 4, 6])
        // Storing what was found stores and counts exactly what applying the batch does.
        var applied = stitcher
        #expect(lookedUpOnce.apply(batch, unstored: unstored) == 4)
        #expect(applied.apply(batch) == 4)
        #expect(Population.tables(of: lookedUpOnce) == Population.tables(of: applied))
        #expect(lookedUpOnce.counters.duplicates == applied.counters.duplicates)
        #expect(lookedUpOnce.unstored(in: batch).indices == [])
        #expect(lookedUpOnce.apply(batch) == batch.count)
    }

    // MARK: late events

    @Test func lateEarlierEventIsInsertedInPlaceAndMovesTheProfileId() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.anon("a")]))
        _ = stitcher.apply(T.event("m4", at: 400, ids: [T.anon("a")]))
        // Between the two: inserted in the middle, id unchanged.
        #expect(stitcher.apply(T.event("m3", at: 300, ids: [T.anon("a")])) == .stored(profileID: T.pid("m2")))
        #expect(stitcher.messageIDs(of: T.pid("m2")) == ["m2", "m3", "m4"])
        #expect(stitcher.merges.isEmpty)
        // Before all of them: the profile id moves to the new earliest touchpoint.
        #expect(stitcher.apply(T.event("m1", at: 100, ids: [T.anon("a")])) == .stored(profileID: T.pid("m1")))
        #expect(stitcher.messageIDs(of: T.pid("m1")) == ["m1", "m2", "m3", "m4"])
        #expect(stitcher.resolve(profileID: T.pid("m2")) == T.pid("m1"))
        #expect(stitcher.owner(T.anon("a")) == T.pid("m1"))
        #expect(stitcher.profileCount == 1)
        // m1 reached the component out of order; in canonical order m1 comes first and nothing
        // merges, so the old id is superseded (at m1's arrival) and forwards.
        #expect(stitcher.merges == [MergeRecord(
            from: T.pid("m2"), into: T.pid("m1"), at: Timestamp(millisecondsSinceEpoch: T.base + 105), messageID: "m1",
            reason: .superseded)])
        #expect(stitcher.merges[0].reason.description == "superseded" && !stitcher.merges[0].blocked)
        #expect(stitcher.record(for: T.pid("m1"))?.mergedFrom == [])
        // Both m3 (before m4) and m1 reached it out of order, but one profile built without merges
        // takes a late event in place: nothing had to be re-resolved.
        #expect(stitcher.counters.reResolutions == 0 && stitcher.counters.merges == 0)
        #expect(stitcher.record(for: T.pid("m1"))?.firstSeen == T.base + 100)
    }

    @Test func equalTimesAreOrderedByMessageId() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m-b", at: 100, ids: [T.anon("a")]))
        _ = stitcher.apply(T.event("m-c", at: 100, ids: [T.anon("a")]))
        // Same time, smaller message id: it is the earliest touchpoint now.
        #expect(stitcher.apply(T.event("m-a", at: 100, ids: [T.anon("a")])) == .stored(profileID: T.pid("m-a")))
        #expect(stitcher.messageIDs(of: T.pid("m-a")) == ["m-a", "m-b", "m-c"])
        #expect(stitcher.resolve(profileID: T.pid("m-b")) == T.pid("m-a"))
    }

    @Test func lateEventJoiningTwoProfilesTakesTheIdOfTheEarliestOfAll() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m2", at: 200, ids: [T.anon("a")]))
        _ = stitcher.apply(T.event("m3", at: 300, ids: [T.device("d")]))
        let outcome = stitcher.apply(T.event("m1", at: 100, ids: [T.anon("a"), T.device("d")]))
        #expect(outcome == .stored(profileID: T.pid("m1")))
        #expect(stitcher.resolve(profileID: T.pid("m2")) == T.pid("m1"))
        #expect(stitcher.resolve(profileID: T.pid("m3")) == T.pid("m1"))
        // In canonical order m1 comes first and carries both identifiers: nothing merges, both
        // earlier ids are superseded.
        #expect(stitcher.merges.map(\.reason) == [.superseded, .superseded])
        #expect(stitcher.record(for: T.pid("m1"))?.mergedFrom == [])
    }

    // MARK: summary

    @Test func profileSummaryIsKeptPerProfile() {
        var stitcher = Stitcher(policy: T.defaultPolicy())
        _ = stitcher.apply(T.event("m2", at: 200, source: T.app, name: "Product Viewed", ids: [T.anon("a")], phase: .explore))
        _ = stitcher.apply(T.event("m3", at: 300, name: "Order Completed", ids: [T.anon("a")], phase: .buy))
        _ = stitcher.apply(T.event("m4", at: 400, type: .identify, name: nil, ids: [T.anon("a")]))
        _ = stitcher.apply(T.event("m1", at: 100, name: "Product Viewed", ids: [T.anon("a")], phase: .explore))
        let record = stitcher.record(for: T.pid("m1"))!
        #expect(record.firstSeen == T.base + 100 && record.lastSeen == T.base + 400)
        #expect(record.phaseFirstReached == [.explore: T.base + 100, .buy: T.base + 300])
        #expect(record.converted)
        // Stage: the phase of the latest touchpoint that has one (the identify has none).
        #expect(record.stage == .buy)
        let channels = Dictionary(uniqueKeysWithValues: record.channelFirstUse.map { (stitcher.channelName($0.key), $0.value) })
        #expect(channels == ["web": T.base + 100, "mobile": T.base + 200])
    }

    @Test func latestTraitsWinWhateverTheArrivalOrder() {
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let events = [
                T.event("m1", at: 100, ids: [T.anon("a")], traits: [("plan", #""free""#), ("name", #""Ada""#)]),
                T.event("m2", at: 300, ids: [T.anon("a")], traits: [("plan", #""gold""#)]),
                T.event("m3", at: 200, ids: [T.anon("a")], traits: [("plan", #""silver""#), ("city", #""Leeds""#)]),
            ]
            var stitcher = Stitcher(policy: T.defaultPolicy())
            stitcher.applyAll(order.map { events[$0] })
            let traits = stitcher.record(for: T.pid("m1"))!.traits.mapValues { String(decoding: $0.json, as: UTF8.self) }
            #expect(traits == ["plan": #""gold""#, "name": #""Ada""#, "city": #""Leeds""#], "order \(order)")
        }
    }

    @Test func tiedTraitsAreDecidedBySourceNotArrival() {
        // The same message id at the same time from two sources, setting different values.
        let web = T.event("m1", at: 100, ids: [T.anon("a")], traits: [("plan", #""web""#)])
        let app = T.event("m1", at: 100, source: T.app, ids: [T.anon("a")], traits: [("plan", #""app""#)])
        var values: Set<String> = []
        for events in [[web, app], [app, web]] {
            var stitcher = Stitcher(policy: T.defaultPolicy())
            stitcher.applyAll(events)
            values.insert(String(decoding: stitcher.record(for: T.pid("m1", source: T.app))!.traits["plan"]!.json, as: UTF8.self))
        }
        // The later touchpoint in journey order (ties: source name, "website" > "ios-app") wins.
        #expect(values == [#""web""#])
    }

    // MARK: touchpoint cap

    @Test func touchpointCapDropsTheOldestAndCountsThem() {
        var stitcher = Stitcher(policy: T.defaultPolicy(), maxTouchpointsPerProfile: 3)
        #expect(stitcher.maxTouchpointsPerProfile == 3)
        for index in 1...5 { _ = stitcher.apply(T.event("m\(index)", at: Int64(index) * 100, ids: [T.anon("a")])) }
        #expect(stitcher.messageIDs(of: T.pid("m1")) == ["m3", "m4", "m5"])
        #expect(stitcher.counters.touchpointsDroppedOverCap == 2)
        #expect(stitcher.record(for: T.pid("m1"))?.droppedTouchpoints == 2)
        #expect(stitcher.touchpointCount == 3 && stitcher.counters.eventsStored == 5)
        // A late event older than everything kept is dropped at once (it is the oldest).
        _ = stitcher.apply(T.event("m0", at: 50, ids: [T.anon("a")]))
        #expect(stitcher.messageIDs(of: T.pid("m0")) == ["m3", "m4", "m5"])
        #expect(stitcher.counters.touchpointsDroppedOverCap == 3)
        // A newer one pushes out the oldest kept.
        _ = stitcher.apply(T.event("m6", at: 600, ids: [T.anon("a")]))
        #expect(stitcher.messageIDs(of: T.pid("m0")) == ["m4", "m5", "m6"])
        #expect(stitcher.counters.touchpointsDroppedOverCap == 4)
        // A still-kept message is a duplicate; a dropped one is no longer remembered.
        #expect(stitcher.apply(T.event("m5", at: 500, ids: [T.anon("a")])) == .duplicate)
        #expect(stitcher.apply(T.event("m2", at: 200, ids: [T.anon("a")])) != .duplicate)
        #expect(stitcher.messageIDs(of: T.pid("m0")) == ["m4", "m5", "m6"])
    }

    @Test func touchpointCapAppliesWhenProfilesMerge() {
        var stitcher = Stitcher(policy: T.defaultPolicy(), maxTouchpointsPerProfile: 4)
        for index in 1...3 { _ = stitcher.apply(T.event("a\(index)", at: Int64(index) * 100, ids: [T.anon("a")])) }
        for index in 1...3 { _ = stitcher.apply(T.event("b\(index)", at: Int64(index) * 100 + 50, ids: [T.anon("b")])) }
        _ = stitcher.apply(T.event("c", at: 1000, ids: [T.anon("a"), T.anon("b")]))
        // 7 touchpoints (a1 100, b1 150, a2 200, b2 250, a3 300, b3 350, c 1000), cap 4: the three oldest go.
        #expect(stitcher.messageIDs(of: T.pid("a1")) == ["b2", "a3", "b3", "c"])
        #expect(stitcher.counters.touchpointsDroppedOverCap == 3)
        #expect(stitcher.record(for: T.pid("a1"))?.droppedTouchpoints == 3)
        // A cap below one is treated as one.
        #expect(Stitcher(policy: T.defaultPolicy(), maxTouchpointsPerProfile: 0).maxTouchpointsPerProfile == 1)
    }

    // MARK: order independence

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func orderIndependenceWithoutMergeProtection(seed: UInt64) {
        let events = Population.make(seed: seed, persons: 30, sharedDevices: 0)
        let reference = Population.run(events, policy: T.defaultPolicy())
        // No limit was reached, so merge protection played no part.
        #expect(reference.stitcher.counters.blockedMerges == 0 && reference.stitcher.counters.linksRefused == 0)
        #expect(reference.stitcher.counters.duplicates == 0)

        // Independent oracle: connected components of the identifier graph, each named after its
        // earliest touchpoint (time, message id, source).
        #expect(reference.partition == Population.expectedPartition(events))
        #expect(reference.partition.count == reference.stitcher.profileCount)
        #expect(reference.partition.count > 10)

        var rng = SplitMix64(seed: seed &* 0x1000_0001)
        for round in 0..<40 {
            let shuffled = events.shuffled(using: &rng)
            let run = Population.run(shuffled, policy: T.defaultPolicy())
            // The same profile ids, each with the same touchpoints…
            if let difference = Population.difference(run.partition, reference.partition) {
                Issue.record("seed \(seed) round \(round): partition differs: \(difference)")
                break
            }
            // …and the same profile summary and journey (all but merged_from).
            if let difference = Population.difference(run.profiles, reference.profiles) {
                Issue.record("seed \(seed) round \(round): profile differs: \(difference)")
                break
            }
            // Every profile id ever handed out still resolves to a live profile.
            #expect(run.issuedIDs.allSatisfy { run.stitcher.resolve(profileID: $0) != nil })
        }
    }

    @Test(arguments: [UInt64(11), 12, 13, 14, 15, 16])
    func orderIndependenceWithSharedDevices(seed: UInt64) {
        // Kiosk devices shared by several people: merge protection blocks joins, which join it
        // blocks depends on which event comes first, and a kiosk seen with enough user ids is
        // flagged as shared — all decided in canonical order, whatever the arrival order.
        let events = Population.make(seed: seed, persons: 40, sharedDevices: 3)
        // The reference: every event arriving in canonical order, so none is ever late and
        // nothing is re-resolved.
        let reference = Population.run(Population.canonicalOrder(events), policy: T.defaultPolicy())
        // Merge protection and shared-identifier flagging both played a part; only flagging
        // re-resolves anything here (once per identifier flagged).
        #expect(reference.stitcher.counters.merges > 0)
        #expect(reference.stitcher.counters.blockedMerges + reference.stitcher.sharedIdentifierCount > 0)
        #expect(reference.stitcher.counters.reResolutions == reference.stitcher.sharedIdentifierCount)
        var rng = SplitMix64(seed: seed &* 0x2000_0003)
        for round in 0..<16 {
            let shuffled = events.shuffled(using: &rng)
            let run = round % 2 == 0
                ? Population.run(shuffled, policy: T.defaultPolicy())
                : Population.run(shuffled, policy: T.defaultPolicy(), batch: 1 + round % 7)
            if run.stitcher.counters.reResolutions == 0 { Issue.record("seed \(seed) round \(round): nothing was re-resolved") }
            if let difference = Population.difference(run.tables, reference.tables) {
                Issue.record("seed \(seed) round \(round): snapshot differs: \(difference)")
                break
            }
            #expect(run.issuedIDs.allSatisfy { run.stitcher.resolve(profileID: $0) != nil })
        }
    }

    @Test func sharedDeviceCounterexample() {
        let events = [
            T.event("m1", at: 100, ids: [T.user("alice"), T.device("kiosk")]),
            T.event("m2", at: 200, ids: [T.user("bob"), T.device("kiosk")]),
            T.event("m3", at: 300, ids: [T.device("kiosk"), T.anon("x")]),
        ]
        let inOrder = Population.run(events, policy: T.defaultPolicy())
        let bobFirst = Population.run([events[1], events[0], events[2]], policy: T.defaultPolicy())
        #expect(inOrder.partition == bobFirst.partition)
    }
}

/// Random but reproducible customer populations for the order-independence tests.
enum Population {
    struct Run {
        var stitcher: Stitcher
        /// Live profile id → its touchpoints ("source/messageId") in journey order.
        var partition: [String: [String]]
        /// Live profile id → its encoded profile and journey.
        var profiles: [String: String]
        var issuedIDs: Set<ProfileID>
        /// Table → rows, as `tables(of:)` gives them.
        var tables: [String: [String]]
    }

    /// A short description of how two results differ (the first few profiles only), or nil if equal.
    static func difference<Value: Equatable>(_ actual: [String: Value], _ expected: [String: Value]) -> String? {
        guard actual != expected else { return nil }
        let keys = Set(actual.keys).union(expected.keys).sorted().filter { actual[$0] != expected[$0] }
        return "\(keys.count) profile(s) differ; "
            + keys.prefix(3).map { key in
                "\(key): got \(actual[key].map { "\($0)" } ?? "none"), expected \(expected[key].map { "\($0)" } ?? "none")"
            }.joined(separator: "; ")
    }

    /// The events in canonical order: corrected time, then message id (UTF-8 bytes), then source.
    static func canonicalOrder(_ events: [NormalisedEvent]) -> [NormalisedEvent] {
        events.sorted { lhs, rhs in
            if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
            if lhs.messageID != rhs.messageID { return lhs.messageID.utf8.lexicographicallyPrecedes(rhs.messageID.utf8) }
            return lhs.source < rhs.source
        }
    }

    /// Applies `events` one at a time, or (with `batch`) that many per `apply` call, as the
    /// engine hands over a request's events.
    static func run(_ events: [NormalisedEvent], policy: IdentityPolicy, batch: Int? = nil) -> Run {
        var stitcher = Stitcher(policy: policy)
        var issued: Set<ProfileID> = []
        if let batch {
            for start in stride(from: 0, to: events.count, by: batch) {
                _ = stitcher.apply(events[start..<min(start + batch, events.count)])
                issued.formUnion(stitcher.slotByProfileID.entries.map(\.key))
            }
        } else {
            issued = Set(stitcher.applyAll(events).compactMap(\.profileID))
        }
        let live = Set(issued.compactMap { stitcher.resolve(profileID: $0) })
        var partition: [String: [String]] = [:]
        var profiles: [String: String] = [:]
        let encoder = ProfileEncoder(stitcher)
        for id in live {
            partition[id.description] = stitcher.record(for: id)!.touchpoints.map {
                "\(stitcher.sources[$0.sourceIndex])/\(stitcher.payloads.messageID(of: $0))"
            }
            let json = encoder.profileJSON(id: id, journey: (after: 0, limit: 1_000_000))!
            let document = try! JSONDocument(bytes: json)
            profiles[id.description] = document.root.members.map { "\($0.key)=\(String(decoding: $0.value.rawBytes, as: UTF8.self))" }
                .joined(separator: ";")
        }
        return Run(stitcher: stitcher, partition: partition, profiles: profiles, issuedIDs: issued, tables: tables(of: stitcher))
    }

    /// The snapshot tables as rows, minus what legitimately depends on arrival order: merge rows
    /// of superseded ids, and when an identifier was flagged as shared.
    static func tables(of stitcher: Stitcher) -> [String: [String]] {
        let rows = SnapshotRows(stitcher)
        func collect(_ write: (inout JSONRowList) -> Void) -> [String] {
            var list = JSONRowList()
            write(&list)
            return list.rows.map { String(decoding: $0, as: UTF8.self) }
        }
        var tables: [String: [String]] = [:]
        tables["profiles"] = collect { rows.writeProfiles(into: &$0) }
        tables["touchpoints"] = collect { list in
            for part in rows.touchpointParts(rowsPerPart: 1_000_000) { rows.writeTouchpoints(in: part, into: &list) }
        }
        tables["identities"] = collect { rows.writeIdentities(into: &$0) }
        tables["merges"] = collect { rows.writeMerges(into: &$0) }.filter { !$0.contains(#""reason":"superseded""#) }
        tables["shared_identifiers"] = collect { rows.writeSharedIdentifiers(into: &$0) }.map { $0.replacing(/"at":"[^"]*"/, with: "") }.sorted()
        return tables
    }

    /// The partition the stitcher must produce when no limit is involved, computed independently:
    /// union-find over identifiers (an alias's previous id as an anonymous id), events grouped by
    /// component, each component named after its minimum (time, message id, source) event.
    static func expectedPartition(_ events: [NormalisedEvent]) -> [String: [String]] {
        var parent: [Identifier: Identifier] = [:]
        func find(_ x: Identifier) -> Identifier {
            var x = x
            while let p = parent[x], p != x { x = p }
            return x
        }
        func edges(_ event: NormalisedEvent) -> [Identifier] {
            event.identifiers + (event.aliasPreviousID.map { [Identifier(type: .anonymousID, value: $0)] } ?? [])
        }
        for event in events {
            let ids = edges(event)
            for id in ids where parent[id] == nil { parent[id] = id }
            for id in ids.dropFirst() {
                let (a, b) = (find(ids[0]), find(id))
                if a != b { parent[b] = a }
            }
        }
        var groups: [Identifier: [NormalisedEvent]] = [:]
        for event in events { groups[find(edges(event)[0]), default: []].append(event) }
        var result: [String: [String]] = [:]
        for members in groups.values {
            let sorted = members.sorted {
                ($0.timestamp.millisecondsSinceEpoch, $0.messageID, $0.source)
                    < ($1.timestamp.millisecondsSinceEpoch, $1.messageID, $1.source)
            }
            result[TestEvents.expectedProfileID(source: sorted[0].source, messageID: sorted[0].messageID)] =
                sorted.map { "\($0.source)/\($0.messageID)" }
        }
        return result
    }

    /// `persons` customers, each with their own identifiers (at most one user id, two emails and one
    /// phone, so no default limit is reached on their own) and 2–8 events over every call type;
    /// equal timestamps and cross-source message ids occur on purpose. With `sharedDevices` > 0,
    /// some events also carry one of that many shared kiosk devices.
    static func make(seed: UInt64, persons: Int, sharedDevices: Int) -> [NormalisedEvent] {
        var rng = SplitMix64(seed: seed)
        let sources = [TestEvents.web, TestEvents.app, TestEvents.callCentre]
        let names = ["Product Viewed", "Order Completed", "Signed In", "Ticket Created", "Custom Thing"]
        let rules = PhaseRules()
        var events: [NormalisedEvent] = []
        var counter = 0
        func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }
        func pick<C: Collection>(_ items: C) -> C.Element where C.Index == Int {
            items[items.startIndex + Int(rng.next() % UInt64(items.count))]
        }
        for person in 0..<persons {
            let user = chance(70) ? TestEvents.user("user-\(person)") : nil
            let emails = (0..<Int(rng.next() % 3)).map { TestEvents.email("p\(person).\($0)@example.com") }
            let phones = chance(40) ? [TestEvents.phone("+44700900\(1000 + person)")] : []
            let devices = (0...Int(rng.next() % 2)).map { TestEvents.device("dev-\(person)-\($0)") }
            let anons = (0...Int(rng.next() % 3)).map { TestEvents.anon("anon-\(person)-\($0)") }
            let pool = (user.map { [$0] } ?? []) + emails + phones + devices + anons
            for _ in 0..<(2 + Int(rng.next() % 7)) {
                counter += 1
                let messageID = "m" + String(rng.next() % 0xFFFF, radix: 16) + "-\(counter)"
                // Minutes within ~3 days: equal timestamps happen.
                let offset = Int64(rng.next() % 4000) * 60_000
                let source = pick(sources)
                var ids = Array(pool.shuffled(using: &rng).prefix(1 + Int(rng.next() % 3)))
                if sharedDevices > 0, chance(30) { ids.append(TestEvents.device("kiosk-\(rng.next() % UInt64(sharedDevices))")) }
                let roll = rng.next() % 10
                let type: EventType
                var alias: String?
                if roll < 5 {
                    type = .track
                } else if roll < 7 {
                    type = .page
                } else if roll < 9 {
                    type = .identify
                } else if let user {
                    type = .alias
                    ids = [user]
                    alias = pick(anons).value
                } else {
                    type = .screen
                }
                let name: String? = type == .track ? pick(names) : (type == .page ? "Home" : nil)
                let traits: [(String, String)] = chance(50) ? [("plan", "\"\(pick(["free", "gold", "silver"]))\"")] : []
                let phase = rules.phase(type: type, event: name, channel: source.channel)
                events.append(TestEvents.event(
                    messageID, at: offset, source: source, type: type, name: name, ids: ids, alias: alias,
                    phase: phase, properties: #"{"n":\#(counter)}"#, traits: traits))
                if chance(8) {
                    // The same message id and time from another source: a distinct touchpoint.
                    let other = sources.first { $0.name != source.name }!
                    events.append(TestEvents.event(
                        messageID, at: offset, source: other, type: type, name: name, ids: ids, alias: alias,
                        phase: phase, properties: #"{"n":\#(counter)}"#, traits: [("plan", "\"\(other.name)\"")]))
                }
            }
        }
        return events
    }
}
