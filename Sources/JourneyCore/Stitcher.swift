/// The identity graph and the journey store: stitches each event onto one customer profile and
/// keeps every profile's ordered journey and summary.
///
/// A value type with no internal locking: exactly one owner (the daemon's ingest engine) mutates
/// it, one event at a time. The graph interns identifiers and keeps, per identifier, the profile
/// that owns it; joining two profiles relabels the smaller one's identifiers (a union-find with
/// union by size and O(1) find). Each touchpoint keeps the identifiers its event carried — the
/// edges the graph was built from. Touchpoints are plain values; their message ids, edges and
/// properties live in one append-only `PayloadArena`, and deduplication is a `MessageIndex` of
/// fingerprints pointing into it.
public struct Stitcher: Sendable {
    /// What happened to one applied event.
    public enum Outcome: Sendable, Equatable {
        case stored(profileID: String)
        /// Already stored (same source and message id); acknowledged, not stored again.
        case duplicate
    }

    /// Running totals since the stitcher was created.
    public struct Counters: Sendable, Equatable {
        public var eventsStored = 0
        public var duplicates = 0
        public var merges = 0
        public var blockedMerges = 0
        /// Identifiers an event carried that were not linked because the profile was at its limit.
        public var linksRefused = 0
        /// Touchpoints removed because a profile exceeded its touchpoint cap.
        public var touchpointsDroppedOverCap = 0
    }

    public let policy: IdentityPolicy
    public let maxTouchpointsPerProfile: Int
    public internal(set) var counters = Counters()
    public internal(set) var merges: ChunkedArray<MergeRecord> = []

    // The state below is internal (not private) only so that the checkpoint codec and the
    // snapshot row encoder in this module can read and rebuild it; nothing else touches it.
    // The large collections are chunked or sharded so that a snapshot's copy-on-write copy makes
    // later writes copy one chunk or shard, never millions of entries at once.
    var identifierIDs = ShardedDictionary<Identifier, UInt32>()
    var identifierList = ChunkedArray<Identifier>()
    var owner = ChunkedArray<Int32>()
    var profiles = ChunkedArray<ProfileRecord?>()
    var freeSlots: [Int32] = []
    var slotByProfileID = ShardedDictionary<String, Int32>()
    var forwarding = ShardedDictionary<String, String>()
    var messageIndex = MessageIndex()
    var payloads = PayloadArena()
    var sources = NameTable()
    var channels = NameTable()
    var eventNames = NameTable()
    /// Identifiers that belong to a profile (interned ones may belong to none).
    var ownedIdentifierCount = 0

    public init(policy: IdentityPolicy, maxTouchpointsPerProfile: Int = 10_000) {
        self.policy = policy
        self.maxTouchpointsPerProfile = max(1, maxTouchpointsPerProfile)
    }

    public var profileCount: Int { slotByProfileID.count }
    public var identifierCount: Int { ownedIdentifierCount }
    /// Touchpoints currently stored (each stored message is one touchpoint).
    public var touchpointCount: Int { messageIndex.count }

    /// Whether an event with this source and message id is already stored.
    public func isStored(_ event: NormalisedEvent) -> Bool {
        guard let source = sources.index(of: event.source) else { return false }
        return withUTF8Bytes(of: event.messageID) { isStored(source: source, messageID: $0, fingerprint: MessageIndex.fingerprint(source: source, messageID: $0)) }
    }

    private func isStored(source: UInt32, messageID: UnsafeRawBufferPointer, fingerprint: UInt64) -> Bool {
        messageIndex.contains(fingerprint) { location in
            payloads.payload(at: location) { $0.sourceIndex == source && $0.messageID.elementsEqual(messageID) }
        }
    }

    // MARK: Ingest

    public mutating func apply(_ event: NormalisedEvent) -> Outcome {
        let sourceIndex = sources.intern(event.source)
        let (fingerprint, stored) = withUTF8Bytes(of: event.messageID) { messageID in
            let fingerprint = MessageIndex.fingerprint(source: sourceIndex, messageID: messageID)
            return (fingerprint, isStored(source: sourceIndex, messageID: messageID, fingerprint: fingerprint))
        }
        guard !stored else {
            counters.duplicates += 1
            return .duplicate
        }
        var carried = event.identifiers
        if let previous = event.aliasPreviousID {
            let asUser = Identifier(type: .userID, value: previous)
            let knownUser = identifierIDs[asUser].map { owner[Int($0)] >= 0 } ?? false
            carried.append(knownUser ? asUser : Identifier(type: .anonymousID, value: previous))
        }
        carried.sort { lhs, rhs in
            let (left, right) = (policy.rank(of: lhs.type), policy.rank(of: rhs.type))
            return left != right ? left < right : lhs.value < rhs.value
        }
        let links = carried.map { intern($0) }
        let reason: MergeRecord.Reason = event.type == .alias ? .alias : .sharedIdentifier

        var group: Int32?
        var pending: [UInt32] = []
        var pendingCounts = SmallMap<IdentifierType, Int>()
        var refused: [(slot: Int32, type: IdentifierType)] = []
        for link in links {
            let type = identifierList[Int(link)].type
            let slot = owner[Int(link)]
            if slot < 0 {
                if pending.contains(link) { continue }
                let current = (group.map { profiles[Int($0)]!.typeCounts[type] ?? 0 } ?? 0) + (pendingCounts[type] ?? 0)
                if let limit = policy.limit(for: type), current + 1 > limit {
                    counters.linksRefused += 1
                    continue
                }
                pending.append(link)
                pendingCounts[type, default: 0] += 1
            } else if slot == group || refused.contains(where: { $0.slot == slot }) {
                continue
            } else if let conflict = limitConflict(group: group, pendingCounts: pendingCounts, joining: slot) {
                refused.append((slot, conflict))
            } else if let current = group {
                group = join(current, slot, event: event, reason: reason)
            } else {
                group = slot
            }
        }

        let location = withUTF8Bytes(of: event.messageID) { messageID in
            event.properties.withUnsafeBytes { properties in
                payloads.appendTouchpoint(source: sourceIndex, messageID: messageID, links: links, properties: properties)
            }
        }
        messageIndex.insert(fingerprint, at: location)
        let touchpoint = StoredTouchpoint(
            timestamp: event.timestamp.millisecondsSinceEpoch, receivedAt: event.receivedAt.millisecondsSinceEpoch,
            payload: location, propertiesLength: UInt32(event.properties.count), sourceIndex: sourceIndex,
            channelIndex: channels.intern(event.channel), nameIndex: event.name.map { eventNames.intern($0) + 1 } ?? 0,
            type: event.type, phase: event.phase
        )
        let touchKey = TouchKey(timestamp: touchpoint.timestamp, messageID: event.messageID, source: event.source)
        let slot = group ?? createProfile(anchor: touchKey)
        for link in pending { adopt(link, into: slot) }
        insert(touchpoint, key: touchKey, traits: event.traits, into: slot, event: event)
        let profileID = profiles[Int(slot)]!.id
        for refusal in refused {
            counters.blockedMerges += 1
            merges.append(
                MergeRecord(
                    from: profiles[Int(refusal.slot)]!.id, into: profileID, at: event.timestamp,
                    messageID: event.messageID, reason: .limit(refusal.type)))
        }
        counters.eventsStored += 1
        return .stored(profileID: profileID)
    }

    /// The identifier type whose limit joining `slot` to the group would exceed, if any.
    private func limitConflict(group: Int32?, pendingCounts: SmallMap<IdentifierType, Int>, joining slot: Int32) -> IdentifierType? {
        let joining = profiles[Int(slot)]!.typeCounts
        let existing = group.map { profiles[Int($0)]!.typeCounts } ?? SmallMap()
        for type in policy.priority {
            guard let limit = policy.limit(for: type) else { continue }
            let total = (existing[type] ?? 0) + (pendingCounts[type] ?? 0) + (joining[type] ?? 0)
            if total > limit { return type }
        }
        return nil
    }

    private mutating func intern(_ identifier: Identifier) -> UInt32 {
        if let id = identifierIDs[identifier] { return id }
        let id = UInt32(identifierList.count)
        identifierList.append(identifier)
        identifierIDs[identifier] = id
        owner.append(-1)
        return id
    }

    private mutating func createProfile(anchor: TouchKey) -> Int32 {
        let record = ProfileRecord(
            id: anchor.profileID, anchor: anchor, identifierIDs: [], typeCounts: [:], touchpoints: [],
            lastSeen: anchor.timestamp, channelFirstUse: [:], phaseFirstReached: [:], traits: [:], mergedFrom: [],
            droppedTouchpoints: 0)
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            profiles[Int(slot)] = record
        } else {
            slot = Int32(profiles.count)
            profiles.append(record)
        }
        slotByProfileID[record.id] = slot
        return slot
    }

    private mutating func adopt(_ identifier: UInt32, into slot: Int32) {
        owner[Int(identifier)] = slot
        ownedIdentifierCount += 1
        profiles[Int(slot)]!.identifierIDs.append(identifier)
        profiles[Int(slot)]!.typeCounts[identifierList[Int(identifier)].type, default: 0] += 1
    }

    /// Joins two profiles; the one with the earlier anchor keeps its id, the other id forwards to it.
    /// Returns the slot that now holds the joined profile.
    private mutating func join(_ first: Int32, _ second: Int32, event: NormalisedEvent, reason: MergeRecord.Reason) -> Int32 {
        let firstSize = profiles[Int(first)]!.identifierIDs.count + profiles[Int(first)]!.touchpoints.count
        let secondSize = profiles[Int(second)]!.identifierIDs.count + profiles[Int(second)]!.touchpoints.count
        let (base, absorbed) = firstSize >= secondSize ? (first, second) : (second, first)
        let other = profiles[Int(absorbed)].take()!
        freeSlots.append(absorbed)
        slotByProfileID[other.id] = nil
        var record = profiles[Int(base)].take()!
        for identifier in other.identifierIDs { owner[Int(identifier)] = base }
        record.identifierIDs += other.identifierIDs
        record.typeCounts.merge(other.typeCounts, uniquingKeysWith: +)
        record.touchpoints = mergeSorted(record.touchpoints, other.touchpoints)
        record.lastSeen = max(record.lastSeen, other.lastSeen)
        record.channelFirstUse.merge(other.channelFirstUse, uniquingKeysWith: min)
        record.phaseFirstReached.merge(other.phaseFirstReached, uniquingKeysWith: min)
        for (key, entry) in other.traits { record.setTrait(key, entry) }
        record.mergedFrom += other.mergedFrom
        record.droppedTouchpoints += other.droppedTouchpoints
        let (survivor, loser) = record.anchor <= other.anchor ? (record.id, other.id) : (other.id, record.id)
        record.anchor = min(record.anchor, other.anchor)
        record.id = survivor
        record.mergedFrom.append(loser)
        slotByProfileID[loser] = nil
        slotByProfileID[survivor] = base
        forwarding[loser] = survivor
        merges.append(MergeRecord(from: loser, into: survivor, at: event.timestamp, messageID: event.messageID, reason: reason))
        counters.merges += 1
        enforceCap(&record)
        profiles[Int(base)] = record
        return base
    }

    private mutating func insert(
        _ touchpoint: StoredTouchpoint, key: TouchKey, traits: [TraitValue], into slot: Int32, event: NormalisedEvent
    ) {
        var record = profiles[Int(slot)].take()!
        let position = insertionIndex(of: touchpoint, in: record.touchpoints)
        record.touchpoints.insert(touchpoint, at: position)
        record.noteTouch(channel: touchpoint.channelIndex, phase: touchpoint.phase, at: touchpoint.timestamp)
        for trait in traits {
            record.setTrait(trait.key, TraitEntry(json: trait.json, timestamp: touchpoint.timestamp, messageID: event.messageID, source: event.source))
        }
        if key < record.anchor {
            record.anchor = key
            let newID = key.profileID
            merges.append(
                MergeRecord(from: record.id, into: newID, at: event.timestamp, messageID: event.messageID, reason: .earlierTouchpoint))
            forwarding[record.id] = newID
            slotByProfileID[record.id] = nil
            record.mergedFrom.append(record.id)
            record.id = newID
            slotByProfileID[newID] = slot
        }
        enforceCap(&record)
        profiles[Int(slot)] = record
    }

    /// Drops the oldest touchpoints past the per-profile cap; they stop counting as stored duplicates.
    /// Works on a record the caller holds (taken out of `profiles`), so nothing is copied.
    private mutating func enforceCap(_ record: inout ProfileRecord) {
        let excess = record.touchpoints.count - maxTouchpointsPerProfile
        guard excess > 0 else { return }
        for dropped in record.touchpoints.prefix(excess) {
            let fingerprint = payloads.payload(of: dropped) { MessageIndex.fingerprint(source: $0.sourceIndex, messageID: $0.messageID) }
            messageIndex.remove(fingerprint, at: dropped.payload)
        }
        record.touchpoints.removeFirst(excess)
        record.droppedTouchpoints += excess
        counters.touchpointsDroppedOverCap += excess
    }

    /// Whether `lhs` comes before `rhs` in the canonical order of `TouchKey`.
    private func precedes(_ lhs: StoredTouchpoint, _ rhs: StoredTouchpoint) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        return payloads.payload(of: lhs) { left in
            payloads.payload(of: rhs) { right in
                if !left.messageID.elementsEqual(right.messageID) { return utf8Precedes(left.messageID, right.messageID) }
                return sources[lhs.sourceIndex] < sources[rhs.sourceIndex]
            }
        }
    }

    private func insertionIndex(of touchpoint: StoredTouchpoint, in touchpoints: [StoredTouchpoint]) -> Int {
        if let last = touchpoints.last, precedes(last, touchpoint) { return touchpoints.count }
        var low = 0
        var high = touchpoints.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(touchpoints[middle], touchpoint) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private func mergeSorted(_ left: [StoredTouchpoint], _ right: [StoredTouchpoint]) -> [StoredTouchpoint] {
        var result: [StoredTouchpoint] = []
        result.reserveCapacity(left.count + right.count)
        var (i, j) = (0, 0)
        while i < left.count, j < right.count {
            if precedes(right[j], left[i]) {
                result.append(right[j])
                j += 1
            } else {
                result.append(left[i])
                i += 1
            }
        }
        result += left[i...]
        result += right[j...]
        return result
    }

    // MARK: Lookups

    /// The current id for `profileID`, following the ids of absorbed profiles to their survivor.
    public func resolve(profileID: String) -> String? {
        var current = profileID
        for _ in 0...forwarding.count {
            if slotByProfileID[current] != nil { return current }
            guard let next = forwarding[current] else { return nil }
            current = next
        }
        return nil
    }

    /// The id of the profile owning `identifier` (already normalised), if any.
    public func profileID(for identifier: Identifier) -> String? {
        guard let id = identifierIDs[identifier], owner[Int(id)] >= 0 else { return nil }
        return profiles[Int(owner[Int(id)])]?.id
    }

    func record(for profileID: String) -> ProfileRecord? {
        slotByProfileID[profileID].flatMap { profiles[Int($0)] }
    }

    func identifier(_ id: UInt32) -> Identifier { identifierList[Int(id)] }
    func channelName(_ index: UInt32) -> String { channels[index] }
}

