/// The identity graph and the journey store: stitches each event onto one customer profile and
/// keeps every profile's ordered journey and summary.
///
/// **The rule.** The profiles are, by definition, what placing every stored event in canonical
/// order (corrected time, then message id, then source) with merge protection gives
/// (`place`, docs/IDENTITY.md). So the same events give the same profiles, ids and merge
/// history whatever order they arrive in, across restarts and WAL replay too. An event that
/// arrives after every event of the components it touches is placed at once — that *is* its
/// canonical position. One that arrives earlier than some event of such a component is placed,
/// and the component (`IdentifierClusters`: identifiers linked by any event, merge protection
/// ignored — the most an event can influence) is re-resolved from its recorded edges in
/// canonical order at the next `settle()`, at a cost proportional to the component — unless the
/// component is one profile built without merges, which the event can join in place.
/// Splits, erasures and identifiers flagged as shared re-resolve their component the same way.
///
/// A value type with no internal locking: exactly one owner (the daemon's ingest engine) mutates
/// it. Touchpoints are plain values; their message ids, edges, traits and properties live in one
/// append-only `PayloadArena`; deduplication is a `MessageIndex` of fingerprints pointing into it.
/// The large collections are chunked or sharded so that a snapshot's copy-on-write copy makes
/// later writes copy one chunk or shard, never millions of entries at once.
public struct Stitcher: Sendable {
    /// What happened to one applied event.
    public enum Outcome: Sendable, Equatable {
        case stored(profileID: ProfileID)
        /// Already stored (same source and message id); acknowledged, not stored again.
        case duplicate
    }

    /// Counts of the stitcher's work and state. `merges`, `blockedMerges` and `linksRefused`
    /// describe the current (canonical) profiles; the others are running totals.
    public struct Counters: Sendable, Equatable {
        public var eventsStored = 0
        public var duplicates = 0
        public var merges = 0
        public var blockedMerges = 0
        /// Identifiers events carried that were not linked because the profile was at its limit.
        public var linksRefused = 0
        /// Touchpoints removed because a profile exceeded its touchpoint cap.
        public var touchpointsDroppedOverCap = 0
        /// Components re-resolved, and the touchpoints replayed doing it.
        public var reResolutions = 0
        public var reResolvedTouchpoints = 0
        public var erasures = 0
        public var splits = 0
    }

    public let policy: IdentityPolicy
    public let maxTouchpointsPerProfile: Int
    public internal(set) var counters = Counters()

    // The state below is internal (not private) only so that the checkpoint codec, the snapshot
    // row encoder and the extensions in this module can read and rebuild it.
    var identifierIDs = IdentifierIndex()
    var identifierList = ChunkedArray<Identifier>()
    /// Per identifier: the slot of the profile that owns it, or -1.
    var owner = ChunkedArray<Int32>()
    var identifierFlags = ChunkedArray<IdentifierFlags>()
    var clusters = IdentifierClusters()
    var sharedEvidence = SharedIdentifierEvidence()
    /// Identifiers flagged as shared, in the order they were flagged.
    var sharedIdentifiers: [SharedIdentifier] = []
    var profiles = ChunkedArray<ProfileRecord?>()
    var freeSlots: [Int32] = []
    var slotByProfileID = ShardedDictionary<ProfileID, Int32>()
    /// Ids no longer in use → the id that took over (absorbed ids and superseded ids).
    var forwarding = ShardedDictionary<ProfileID, ProfileID>()
    /// Ids superseded by a re-resolution that no canonical merge explains, as `merges.jsonl.gz` rows.
    var superseded = ShardedDictionary<ProfileID, MergeRecord>()
    var splitRules = SplitRules()
    /// Splits operators asked for, as `merges.jsonl.gz` rows.
    var splitLog: [MergeRecord] = []
    var suppressed = Set<SuppressionDigest>()
    var messageIndex = MessageIndex()
    var payloads = PayloadArena()
    /// Supplies each new empty payload block (`PayloadArena.append`). The daemon hands in blocks
    /// whose pages a background thread has already mapped, so that the single writer does not
    /// take the page faults of the arena's growth; by default each block is faulted in as it fills.
    public var newPayloadBlock: @Sendable () -> [UInt8] = { [] }
    var sources = NameTable()
    var channels = NameTable()
    var eventNames = NameTable()
    /// Identifiers that belong to a profile (interned ones may belong to none).
    var ownedIdentifierCount = 0
    /// Components touched out of canonical order (or changed) since the last `settle()`: an
    /// identifier in each, and what caused it.
    var unsettled: [(identifier: UInt32, cause: ResolutionCause)] = []
    var notices: [StitcherNotice] = []

    public init(policy: IdentityPolicy, maxTouchpointsPerProfile: Int = 10_000) {
        self.policy = policy
        self.maxTouchpointsPerProfile = max(1, maxTouchpointsPerProfile)
    }

    public var profileCount: Int { slotByProfileID.count }
    public var identifierCount: Int { ownedIdentifierCount }
    /// Touchpoints currently stored (each stored message is one touchpoint).
    public var touchpointCount: Int { messageIndex.count }
    public var sharedIdentifierCount: Int { sharedIdentifiers.count }

    /// The events of a batch that are not stored yet, found once — for the write-ahead log, then for
    /// `apply(_:unstored:settling:)` — so that each event is looked up in the dedup index once.
    /// Valid for the stitcher it was found in until that stitcher changes.
    public struct UnstoredEvents: Sendable {
        /// Positions in the batch, in order; a message id repeated in the batch counts once, at
        /// its first place.
        public fileprivate(set) var indices: [Int] = []
        /// Per entry of `indices`: the dedup fingerprint, or nil when the event's source has not
        /// been seen yet (it is interned, and fingerprinted, when the event is stored).
        fileprivate var fingerprints: [UInt64?] = []

        fileprivate mutating func append(_ index: Int, fingerprint: UInt64?) {
            indices.append(index)
            fingerprints.append(fingerprint)
        }
    }

    /// The events of `events` not stored yet (see `UnstoredEvents`).
    public func unstored(in events: [NormalisedEvent]) -> UnstoredEvents {
        var result = UnstoredEvents()
        result.indices.reserveCapacity(events.count)
        result.fingerprints.reserveCapacity(events.count)
        // Fingerprint → its first entry in `result`, to find ids repeated within the batch.
        var firstEntry = FingerprintPositions(count: events.count)
        struct Delivery: Hashable { let source: String; let messageID: String }
        var newSourceDeliveries = Set<Delivery>()
        // Every fingerprint first (nil: a source not seen yet), so that each lookup can start
        // loading the dedup index's slot a few events ahead. By index: mapping over the events
        // themselves would copy each one.
        for ahead in events.indices.prefix(Self.prefetchDistance) { NormalisedEvent.prefetchStorage(of: events, at: ahead) }
        let keys = events.indices.map { index in
            if index + Self.prefetchDistance < events.count { NormalisedEvent.prefetchStorage(of: events, at: index + Self.prefetchDistance) }
            return sources.index(of: events[index].source).map { source in
                (source: source, fingerprint: events[index].keys.withMessageID { MessageIndex.fingerprint(source: source, messageID: $0) })
            }
        }
        for ahead in keys.prefix(Self.prefetchDistance) { ahead.map { messageIndex.prefetch($0.fingerprint) } }
        for index in events.indices {
            if index + Self.prefetchDistance < keys.count, let ahead = keys[index + Self.prefetchDistance] {
                messageIndex.prefetch(ahead.fingerprint)
            }
            guard let (source, fingerprint) = keys[index] else {
                // A source not seen yet: nothing of it is stored; only the batch can repeat an id.
                if newSourceDeliveries.insert(Delivery(source: events[index].source, messageID: events[index].messageID)).inserted {
                    result.append(index, fingerprint: nil)
                }
                continue
            }
            let stored = events[index].keys.withMessageID { storedLocation(source: source, messageID: $0, fingerprint: fingerprint) != nil }
            if stored { continue }
            if let entry = firstEntry.first(fingerprint, orRecord: result.indices.count) {
                // Almost always the same id again; compare every earlier id with this fingerprint
                // so that two ids sharing one are both kept.
                let repeated = zip(result.indices, result.fingerprints).dropFirst(entry).contains { earlier, earlierFingerprint in
                    earlierFingerprint == fingerprint && events[earlier].source == events[index].source
                        && events[earlier].keys.withMessageID { earlierID in events[index].keys.withMessageID { bytesEqual(earlierID, $0) } }
                }
                if repeated { continue }
            }
            result.append(index, fingerprint: fingerprint)
        }
        return result
    }

    /// How many events ahead a batch starts loading the dedup index's slots: enough to cover a
    /// load from memory, few enough that the loaded lines are still cached when they are used.
    static let prefetchDistance = 8

    /// The dedup fingerprint of a message id from an interned source, and whether it is stored.
    private func lookUp(source: UInt32, keys: EventKeys) -> (fingerprint: UInt64, stored: Bool) {
        keys.withMessageID { messageID in
            let fingerprint = MessageIndex.fingerprint(source: source, messageID: messageID)
            return (fingerprint, storedLocation(source: source, messageID: messageID, fingerprint: fingerprint) != nil)
        }
    }

    func storedLocation(source: UInt32, messageID: UnsafeRawBufferPointer) -> PayloadLocation? {
        storedLocation(source: source, messageID: messageID, fingerprint: MessageIndex.fingerprint(source: source, messageID: messageID))
    }

    private func storedLocation(source: UInt32, messageID: UnsafeRawBufferPointer, fingerprint: UInt64) -> PayloadLocation? {
        messageIndex.first(fingerprint) { location in
            payloads.payload(at: location) { $0.sourceIndex == source && bytesEqual($0.messageID, messageID) }
        }
    }

    /// Notices for the operator's log since the last call (identifiers flagged as shared).
    public mutating func takeNotices() -> [StitcherNotice] {
        defer { notices.removeAll() }
        return notices
    }

    // MARK: Ingest

    /// Stores one event and settles; answers with the profile that holds it.
    public mutating func apply(_ event: NormalisedEvent) -> Outcome {
        guard let (touchpoint, links) = store(event) else {
            counters.duplicates += 1
            return .duplicate
        }
        settle()
        return .stored(profileID: profileHolding(touchpoint, links: links) ?? ProfileID(value: 0))
    }

    /// Stores a batch of events in order and returns how many were duplicates. With `settling`
    /// (the default) it then settles; without, components reached out of order wait for the next
    /// `settle()` — the owner must settle before it reads profiles, takes a cut or performs an
    /// operation, and should settle soon in any case (`unsettledCount`), so that a burst of late
    /// events re-resolves each component once instead of once per batch.
    public mutating func apply(_ events: some Collection<NormalisedEvent>, settling: Bool = true) -> Int {
        var duplicates = 0
        for event in events where store(event) == nil {
            duplicates += 1
        }
        counters.duplicates += duplicates
        if settling { settle() }
        return duplicates
    }

    /// Stores the events `unstored` names — found in this stitcher, unchanged since — without
    /// looking them up again, and returns how many of `events` were duplicates. Settles as
    /// `apply(_:settling:)` does.
    ///
    /// Takes the events out of the batch one by one, in order (`removeLast` of the reversed
    /// batch moves an event out), so that each reaches `storeNew` without being copied: passing
    /// an element of an array that stays alive copies all its strings and arrays. The caller
    /// should give the batch up (`consume`); a batch still referenced elsewhere is copied whole.
    public mutating func apply(_ events: consuming [NormalisedEvent], unstored: UnstoredEvents, settling: Bool = true) -> Int {
        let duplicates = events.count - unstored.indices.count
        // Through the buffer, whose swaps move elements; Array's own reverse copies them.
        events.withUnsafeMutableBufferPointer { $0.reverse() }
        let lastPosition = events.count - 1
        var taken = 0
        for (entry, (index, fingerprint)) in zip(unstored.indices, unstored.fingerprints).enumerated() {
            // The slot an event two places on will be indexed at was loaded by `unstored(in:)`
            // and may have left the cache since. The first lines of that event's keys were loaded
            // then too; the rest, if any, are loaded now. (Taking events from the end leaves the
            // position of the rest unchanged.)
            if entry + 2 < unstored.indices.count {
                if let ahead = unstored.fingerprints[entry + 2] { messageIndex.prefetch(ahead) }
                NormalisedEvent.prefetchKeysTail(of: events, at: lastPosition - unstored.indices[entry + 2])
            }
            events.removeLast(index - taken)
            let event = events.removeLast()
            taken = index + 1
            let sourceIndex = sources.intern(event.source)
            let fingerprint = fingerprint ?? event.keys.withMessageID { MessageIndex.fingerprint(source: sourceIndex, messageID: $0) }
            storeNew(event, sourceIndex: sourceIndex, fingerprint: fingerprint)
        }
        counters.duplicates += duplicates
        if settling { settle() }
        return duplicates
    }

    /// Components waiting to be re-resolved (an upper bound: one component may be counted more than once).
    public var unsettledCount: Int { unsettled.count }

    /// Interns, records and places one new event; nil for a duplicate. Leaves components it
    /// reached out of order in `unsettled`.
    private mutating func store(_ event: borrowing NormalisedEvent) -> (StoredTouchpoint, [UInt32])? {
        let sourceIndex = sources.intern(event.source)
        let (fingerprint, stored) = lookUp(source: sourceIndex, keys: event.keys)
        guard !stored else { return nil }
        return storeNew(event, sourceIndex: sourceIndex, fingerprint: fingerprint)
    }

    /// Records and places an event known not to be stored, under its interned source and its
    /// dedup fingerprint.
    @discardableResult
    private mutating func storeNew(_ event: borrowing NormalisedEvent, sourceIndex: UInt32, fingerprint: UInt64) -> (StoredTouchpoint, [UInt32]) {
        // In policy order, interned from the packed bytes: no `String` is made for an identifier
        // already known. One or two (most events) without sorting.
        let isAlias = event.aliasPreviousID != nil
        // The closure reads the priority order, not the stitcher: it captures the stitcher inout,
        // and calling a non-mutating method of it there copies the whole stitcher per call.
        let priority = policy.priority
        var links: [UInt32] = event.keys.withIdentifiers { identifiers in
            var links: [UInt32] = []
            links.reserveCapacity(identifiers.count + (isAlias ? 2 : 0))
            var entries = identifiers.makeIterator()
            switch identifiers.count {
            case 0:
                break
            case 1:
                links.append(intern(entries.next()!))
            case 2:
                let (first, second) = (entries.next()!, entries.next()!)
                let swapped = Self.precedesInPolicyOrder(second, first, priority: priority)
                links.append(intern(swapped ? second : first))
                links.append(intern(swapped ? first : second))
            default:
                for entry in identifiers.sorted(by: { Self.precedesInPolicyOrder($0, $1, priority: priority) }) {
                    links.append(intern(entry))
                }
            }
            return links
        }
        let cause = ResolutionCause(event)
        noteSharedEvidence(links, cause: cause)
        if let previous = event.aliasPreviousID {
            links.append(intern(Identifier(type: .userID, value: previous)))
            links.append(intern(Identifier(type: .anonymousID, value: previous)))
        }
        let traits = event.traits.isEmpty ? [] : EncodedTraits.encode(event.traits)
        // The closures below capture these two fields, not the event: a closure that captures
        // the event copies all of it (retaining each of its strings and arrays).
        let (keys, properties) = (event.keys, event.properties)
        let location = keys.withMessageID { messageID in
            properties.withUnsafeBytes { properties in
                payloads.appendTouchpoint(
                    source: sourceIndex, messageID: messageID, links: links, alias: isAlias, traits: traits, properties: properties,
                    newBlock: newPayloadBlock)
            }
        }
        messageIndex.insert(fingerprint, at: location)
        let touchpoint = StoredTouchpoint(
            timestamp: event.timestamp.millisecondsSinceEpoch, receivedAt: event.receivedAt.millisecondsSinceEpoch,
            payload: location, propertiesLength: UInt32(event.properties.count), sourceIndex: sourceIndex,
            channelIndex: channels.intern(event.channel), nameIndex: event.name.map { eventNames.intern($0) + 1 } ?? 0,
            type: event.type, phase: event.phase
        )
        counters.eventsStored += 1
        placeArriving(touchpoint, carried: links, isAlias: isAlias, cause: cause)
        return (touchpoint, links)
    }

    /// The order in which an event's identifiers are linked: by the rank of their types in the
    /// policy's `priority`, then by value (as `String`s compare, which for ASCII is by their bytes).
    private static func precedesInPolicyOrder(
        _ lhs: EventKeys.IdentifierEntry, _ rhs: EventKeys.IdentifierEntry, priority: [IdentifierType]
    ) -> Bool {
        let (left, right) = (IdentityPolicy.rank(of: lhs.type, in: priority), IdentityPolicy.rank(of: rhs.type, in: priority))
        if left != right { return left < right }
        if isASCII(lhs.value) && isASCII(rhs.value) { return utf8Precedes(lhs.value, rhs.value) }
        return String(decoding: lhs.value, as: UTF8.self) < String(decoding: rhs.value, as: UTF8.self)
    }

    mutating func intern(_ identifier: Identifier) -> UInt32 {
        withUTF8Bytes(of: identifier.value) { intern(EventKeys.IdentifierEntry(type: identifier.type, value: $0)) }
    }

    /// The id of an identifier read from an event's keys; interned (its value made a `String`)
    /// if it is new.
    private mutating func intern(_ entry: EventKeys.IdentifierEntry) -> UInt32 {
        let hash = IdentifierIndex.hash(type: entry.type, value: entry.value)
        if let id = identifierID(type: entry.type, value: entry.value, hash: hash) { return id }
        let id = UInt32(identifierList.count)
        identifierList.append(Identifier(type: entry.type, value: String(decoding: entry.value, as: UTF8.self)))
        identifierIDs.insert(id, hash: hash)
        owner.append(-1)
        identifierFlags.append([])
        clusters.append(id)
        sharedEvidence.append()
        return id
    }

    private func identifierID(type: IdentifierType, value: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        identifierIDs.id(hash: hash) { id in
            identifierList[Int(id)].type == type && withUTF8Bytes(of: identifierList[Int(id)].value) { bytesEqual($0, value) }
        }
    }

    /// The id of `identifier` (already normalised) if it is interned and not erased.
    func identifierID(of identifier: Identifier) -> UInt32? {
        withUTF8Bytes(of: identifier.value) { value in
            identifierID(type: identifier.type, value: value, hash: IdentifierIndex.hash(type: identifier.type, value: value))
        }
    }

    // MARK: Lookups

    /// The current id for `profileID`, following the ids of absorbed or superseded profiles to
    /// the profile that holds their touchpoints now.
    public func resolve(profileID: ProfileID) -> ProfileID? {
        var current = profileID
        for _ in 0...forwarding.count {
            if slotByProfileID[current] != nil { return current }
            guard let next = forwarding[current] else { return nil }
            current = next
        }
        return nil
    }

    /// `resolve(profileID:)` for an id as text; nil if it is not a profile id.
    public func resolve(profileID text: String) -> ProfileID? {
        ProfileID(text).flatMap { resolve(profileID: $0) }
    }

    /// The id of the profile owning `identifier` (already normalised), if any.
    public func profileID(for identifier: Identifier) -> ProfileID? {
        guard let id = identifierID(of: identifier), owner[Int(id)] >= 0 else { return nil }
        return profiles[Int(owner[Int(id)])]?.id
    }

    /// The profile holding `touchpoint` (found through the profiles of its identifiers); if the
    /// cap dropped it at once, the profile of its first identifier that has one.
    func profileHolding(_ touchpoint: StoredTouchpoint, links: [UInt32]) -> ProfileID? {
        for link in links where owner[Int(link)] >= 0 {
            let record = profiles[Int(owner[Int(link)])]!
            let index = insertionIndex(of: touchpoint.reference, in: record.touchpoints)
            if index < record.touchpoints.count && record.touchpoints[index].payload == touchpoint.payload { return record.id }
        }
        return links.first { owner[Int($0)] >= 0 }.flatMap { profiles[Int(owner[Int($0)])]?.id }
    }

    func record(for profileID: ProfileID) -> ProfileRecord? {
        slotByProfileID[profileID].flatMap { profiles[Int($0)] }
    }

    func identifier(_ id: UInt32) -> Identifier { identifierList[Int(id)] }
    func channelName(_ index: UInt32) -> String { channels[index] }
}

/// Per-identifier state bits.
struct IdentifierFlags: OptionSet {
    let rawValue: UInt8

    /// Flagged as shared (automatically or by an operator): it no longer links profiles.
    static let shared = IdentifierFlags(rawValue: 1)
    /// Its profile was erased: the value is gone and it links nothing.
    static let erased = IdentifierFlags(rawValue: 2)
}

/// What made a component need re-resolving, for the rows of the ids it supersedes: the arrival
/// (received-at time) of a late event, or an operator's split or erasure.
struct ResolutionCause {
    var at: Int64
    /// The keys of the event that caused it, whose message id goes into merge records; kept as
    /// they are (a retain), since most causes never write a record.
    private var eventKeys: EventKeys?

    /// A cause that is no event (an operator's split or erasure).
    init(at: Int64) {
        self.at = at
    }

    /// Borrows the event: an initializer's parameter is otherwise passed owned, which copies the
    /// whole event (retaining each of its strings and arrays) for the two fields read here.
    init(_ event: borrowing NormalisedEvent) {
        at = event.receivedAt.millisecondsSinceEpoch
        eventKeys = event.keys
    }

    var messageID: String? { eventKeys?.messageID }
}

/// Something the stitcher's owner should tell the operator.
public enum StitcherNotice: Sendable, Equatable {
    /// An identifier crossed its shared-identifier threshold and stopped linking profiles.
    case identifierFlaggedShared(type: IdentifierType, valueHash: String, userIDs: Int)
}
