/// Placing one event (or a capped profile's retained history) with merge protection: the step the
/// canonical order is made of.
extension Stitcher {
    /// One thing to place in canonical order: a stored touchpoint, or what a profile's
    /// touchpoints dropped over the cap left behind (replayed as one event at its anchor).
    enum Placement {
        case touchpoint(StoredTouchpoint)
        case retained(RetainedReplay)
    }

    /// A capped profile's retained history as replayed: its anchor, its identifiers, and the
    /// summary parts its dropped touchpoints contributed.
    struct RetainedReplay {
        var history: RetainedHistory
        var identifierIDs: [UInt32]
        var channelFirstUse: SmallMap<UInt32, Int64>
        var phaseFirstReached: SmallMap<Phase, Int64>
        var traits: [String: TraitEntry]
    }

    /// Which identifiers of a placement link (in priority order), and which join its component.
    private struct Links {
        var linking: [UInt32] = []
        var component: [UInt32] = []
    }

    /// Places an arriving touchpoint whose payload holds `carried` (its links, as `store` wrote
    /// them); if it reached a component out of canonical order, the component is left for `settle()`.
    mutating func placeArriving(_ touchpoint: StoredTouchpoint, carried: [UInt32], isAlias: Bool, cause: ResolutionCause) {
        let links = self.links(carried: carried, isAlias: isAlias)
        var late = false
        for link in links.component {
            let root = clusters.root(of: link)
            if let latest = clusters.latestEvent(ofRoot: root), precedes(touchpoint.reference, latest) {
                late = true
                break
            }
        }
        guard late else {
            place(.touchpoint(touchpoint), links: links)
            return
        }
        if let profile = profileJoinedInPlace(by: touchpoint, links: links) {
            let previousID = profiles[Int(profile)]!.id
            place(.touchpoint(touchpoint), links: links)
            renameIfAnchorMoved(profile, from: previousID, cause: cause)
        } else {
            place(.touchpoint(touchpoint), links: links)
            if let first = links.component.first { unsettled.append((first, cause)) }
        }
    }

    /// The profile a late event can join where it is, with the same result as re-resolving its
    /// component; nil otherwise. Only for an event that is no alias, with no split rule in force,
    /// into a component built without refusals or aliases:
    /// - built without merges either (one profile; every event after its first carried an
    ///   identifier seen before it): the event breaks no limit and carries an identifier of a
    ///   touchpoint just before its place (or of the profile's first touchpoint, when it comes
    ///   first). In canonical order it would have joined that profile too, and nothing after it
    ///   would have gone differently;
    /// - built with merges: `profileJoinedAfterMerges`.
    private func profileJoinedInPlace(by touchpoint: StoredTouchpoint, links: Links) -> Int32? {
        guard splitRules.isEmpty, links.component.count == links.linking.count, touchpoint.type != .alias,
            let first = links.linking.first
        else { return nil }
        let root = clusters.findRoot(of: first)
        switch clusters.history(ofRoot: root) {
        case []: break
        case .merged: return profileJoinedAfterMerges(by: touchpoint, links: links, root: root)
        default: return nil
        }
        var profile: Int32?
        var added = SmallMap<IdentifierType, Int>()
        for link in links.linking {
            let linkRoot = clusters.findRoot(of: link)
            let slot = owner[Int(link)]
            if slot < 0 {
                // Only an identifier never linked before may be new to the profile.
                guard linkRoot == link, clusters.latestEvent(ofRoot: link) == nil else { return nil }
                added[identifierList[Int(link)].type, default: 0] += 1
            } else if linkRoot != root || (profile != nil && profile != slot) {
                return nil
            } else {
                profile = slot
            }
        }
        guard let profile, let record = profiles[Int(profile)], record.retained == nil else { return nil }
        for (type, count) in added {
            if let limit = policy.limit(for: type), (record.typeCounts[type] ?? 0) + count > limit { return nil }
        }
        let position = insertionIndex(of: touchpoint.reference, in: record.touchpoints)
        if position == 0 { return carriesAny(of: links.linking, record.touchpoints[0]) ? profile : nil }
        for index in stride(from: position - 1, through: max(0, position - 64), by: -1)
        where carriesAny(of: links.linking, record.touchpoints[index]) {
            return profile
        }
        return nil
    }

    /// In a component whose profiles were merged (never refused, no aliases, so it is one profile
    /// now and nothing ever kept its identifiers apart): a late event that carries only identifiers
    /// one earlier touchpoint of that profile carried all together, and that leaves the profile
    /// under its cap. In canonical order that earlier touchpoint had already brought those
    /// identifiers into one profile, which the event would have joined without linking anything or
    /// adding evidence; it would not have been that profile's first touchpoint, so no anchor, id or
    /// merge moves (a merge's history order follows the anchors, not the sizes).
    private func profileJoinedAfterMerges(by touchpoint: StoredTouchpoint, links: Links, root: UInt32) -> Int32? {
        var profile: Int32?
        for link in links.linking {
            let slot = owner[Int(link)]
            guard slot >= 0, profile == nil || profile == slot, clusters.findRoot(of: link) == root else { return nil }
            profile = slot
        }
        guard let profile, let record = profiles[Int(profile)], record.retained == nil,
            record.touchpoints.count < maxTouchpointsPerProfile
        else { return nil }
        let carried = payloads.payload(of: touchpoint) { payload in (0..<payload.linkCount).map { payload.link($0) } }
        let position = insertionIndex(of: touchpoint.reference, in: record.touchpoints)
        for index in stride(from: position - 1, through: max(0, position - 64), by: -1) {
            let carriesAll = payloads.payload(of: record.touchpoints[index]) { payload in
                carried.allSatisfy { link in (0..<payload.linkCount).contains { payload.link($0) == link } }
            }
            if carriesAll { return profile }
        }
        return nil
    }

    private func carriesAny(of identifiers: [UInt32], _ touchpoint: StoredTouchpoint) -> Bool {
        payloads.payload(of: touchpoint) { payload in
            for index in 0..<payload.linkCount where identifiers.contains(payload.link(index)) { return true }
            return false
        }
    }

    /// After a late event joined a profile in place: if it became the profile's first touchpoint,
    /// the id moves to it and the previous id is superseded (it forwards).
    private mutating func renameIfAnchorMoved(_ slot: Int32, from previousID: ProfileID, cause: ResolutionCause) {
        let first = profiles[Int(slot)]!.touchpoints[0]
        let id = payloads.payload(of: first) { ProfileID(source: sources[$0.sourceIndex].utf8, messageID: $0.messageID) }
        guard id != previousID else { return }
        profiles[Int(slot)]!.id = id
        slotByProfileID[previousID] = nil
        becameLive(id, slot: slot)
        forwarding[previousID] = id
        superseded[previousID] = MergeRecord(
            from: previousID, into: id, at: Timestamp(millisecondsSinceEpoch: cause.at), messageID: cause.messageID, reason: .superseded)
    }

    /// Places during re-resolution (items come in canonical order).
    mutating func placeReplayed(_ placement: Placement) {
        place(placement, links: links(of: placement))
    }

    /// The identifiers of a placement that link: its own, without erased ones and without shared
    /// ones (unless it has nothing else: then its first shared one, so it still has a home), and
    /// for an alias the reading of `previousId` in force at this point of the canonical order —
    /// its `user_id` if a profile owns that, else its `anonymous_id`.
    private func links(of placement: Placement) -> Links {
        switch placement {
        case .touchpoint(let touchpoint):
            return payloads.payload(of: touchpoint) { links(carried: $0.links, isAlias: $0.isAlias) }
        case .retained(let retained):
            return links(carried: retained.identifierIDs, isAlias: false)
        }
    }

    /// `links(of:)` for the identifiers a payload carries (with an alias's two readings last).
    private func links(carried: [UInt32], isAlias: Bool) -> Links {
        var own = carried
        var candidates: (user: UInt32, anonymous: UInt32)?
        if isAlias, own.count >= 2 {
            let anonymous = own.removeLast()
            candidates = (own.removeLast(), anonymous)
        }
        // Usually no identifier is shared or erased: keep the array as it is.
        if candidates == nil, own.allSatisfy({ identifierFlags[Int($0)].isEmpty }) {
            return Links(linking: own, component: own)
        }
        var result = Links()
        var firstShared: UInt32?
        for link in own {
            let flags = identifierFlags[Int(link)]
            if flags.contains(.erased) { continue }
            if flags.contains(.shared) {
                if firstShared == nil { firstShared = link }
                continue
            }
            result.linking.append(link)
        }
        if let (user, anonymous) = candidates {
            let usable = { (id: UInt32) in identifierFlags[Int(id)].isDisjoint(with: [.erased, .shared]) }
            let reading = owner[Int(user)] >= 0 ? user : anonymous
            if usable(reading) {
                result.linking.append(reading)
                result.linking.sort { lhs, rhs in
                    let (left, right) = (identifierList[Int(lhs)], identifierList[Int(rhs)])
                    let (leftRank, rightRank) = (policy.rank(of: left.type), policy.rank(of: right.type))
                    return leftRank != rightRank ? leftRank < rightRank : left.value < right.value
                }
            }
            result.component = result.linking + [user, anonymous].filter { usable($0) && $0 != reading }
        } else {
            result.component = result.linking
        }
        if result.linking.isEmpty, let firstShared {
            result.linking = [firstShared]
            result.component = [firstShared]
        }
        return result
    }

    /// Merge protection (docs/IDENTITY.md): start from the profile of the highest-priority
    /// identifier, join each further identifier's profile unless that breaks a limit or a split
    /// rule (then record a refused merge), adopt new identifiers within the limits.
    private mutating func place(_ placement: Placement, links: Links) {
        let reason: MergeRecord.Reason = isAlias(placement) ? .alias : .sharedIdentifier
        var group: Int32?
        var pending: [UInt32] = []
        var pendingCounts = SmallMap<IdentifierType, Int>()
        var refused: [(slot: Int32, reason: MergeRecord.Reason)] = []
        var linksRefused = 0
        var joined = false
        for link in links.linking {
            let type = identifierList[Int(link)].type
            let slot = owner[Int(link)]
            if slot < 0 {
                if pending.contains(link) { continue }
                let current = (group.flatMap { profiles[Int($0)]?.typeCounts[type] } ?? 0) + (pendingCounts[type] ?? 0)
                if let limit = policy.limit(for: type), current + 1 > limit {
                    linksRefused += 1
                    continue
                }
                pending.append(link)
                pendingCounts[type, default: 0] += 1
            } else if slot == group || refused.contains(where: { $0.slot == slot }) {
                continue
            } else if let conflict = joinConflict(group: group, pendingCounts: pendingCounts, joining: slot) {
                refused.append((slot, conflict))
            } else if let current = group {
                group = join(current, slot, by: placement, reason: reason)
                joined = true
            } else {
                group = slot
            }
        }
        let slot = group ?? createProfile(for: placement)
        for link in pending { adopt(link, into: slot) }
        attach(placement, to: slot)
        if !refused.isEmpty {
            // Only a refusal records the cause: made for every event, its message id would be a
            // `String` built and freed per touchpoint.
            let (at, messageID) = cause(of: placement)
            let profileID = liveProfileID(slot)
            for refusal in refused {
                counters.blockedMerges += 1
                profiles[Int(slot)]!.history.append(
                    MergeRecord(from: liveProfileID(refusal.slot), into: profileID, at: at, messageID: messageID, reason: refusal.reason))
            }
        }
        profiles[Int(slot)]!.linksRefused += linksRefused
        counters.linksRefused += linksRefused
        var root: UInt32?
        for link in links.component {
            root = root.map { joinComponents($0, link) } ?? link
        }
        guard let root else { return }
        var involved: ComponentHistory = []
        if joined { involved.insert(.merged) }
        if !refused.isEmpty || linksRefused > 0 { involved.insert(.refused) }
        if reason == .alias { involved.insert(.alias) }
        if !involved.isEmpty { clusters.noteHistory(involved, ofRoot: clusters.root(of: root)) }
        if case .touchpoint(let touchpoint) = placement {
            noteLatest(touchpoint.reference, inComponentOf: root)
        }
    }

    /// The id of the live profile in `slot`. Placement reads profiles through optional chaining
    /// (`profiles[slot]?.field`), which reads the field in place: `profiles[slot]!.field` copies
    /// the whole record first, retaining and releasing every array and table in it.
    func liveProfileID(_ slot: Int32) -> ProfileID {
        guard let id = profiles[Int(slot)]?.id else { preconditionFailure("slot \(slot) holds no profile") }
        return id
    }

    /// Joins the components of two identifiers, keeping the later of their latest events.
    mutating func joinComponents(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let (root, displaced) = clusters.union(a, b)
        if let displaced { noteLatest(displaced, inComponentOf: root) }
        return root
    }

    /// Makes `event` the latest event of `identifier`'s component if it is later than the one held.
    mutating func noteLatest(_ event: EventReference, inComponentOf identifier: UInt32) {
        let root = clusters.root(of: identifier)
        if let latest = clusters.latestEvent(ofRoot: root), !precedes(latest, event) { return }
        clusters.setLatestEvent(ofRoot: root, event)
    }

    /// The identifiers that join a stored touchpoint's component.
    func componentLinks(of touchpoint: StoredTouchpoint) -> [UInt32] {
        links(of: .touchpoint(touchpoint)).component
    }

    private func isAlias(_ placement: Placement) -> Bool {
        guard case .touchpoint(let touchpoint) = placement else { return false }
        return touchpoint.type == .alias
    }

    /// Corrected time and message id of what is being placed, for the merge records it causes.
    private func cause(of placement: Placement) -> (Timestamp, String) {
        switch placement {
        case .touchpoint(let touchpoint):
            return (Timestamp(millisecondsSinceEpoch: touchpoint.timestamp), payloads.messageID(of: touchpoint))
        case .retained(let retained):
            return (Timestamp(millisecondsSinceEpoch: retained.history.anchor.timestamp), retained.history.anchor.messageID)
        }
    }

    /// Why joining `slot` to the group is refused, if it is: the first identifier type (by
    /// priority) whose limit it would exceed, or a split rule keeping the two apart.
    private func joinConflict(group: Int32?, pendingCounts: SmallMap<IdentifierType, Int>, joining slot: Int32) -> MergeRecord.Reason? {
        // Fields are read through the subscript: binding a whole record would copy (retain) all of it.
        for (type, limit) in policy.limits {
            let existing = group.flatMap { profiles[Int($0)]?.typeCounts[type] } ?? 0
            let total = existing + (pendingCounts[type] ?? 0) + (profiles[Int(slot)]?.typeCounts[type] ?? 0)
            if total > limit { return .limit(type) }
        }
        if let group, SplitRules.conflict(profiles[Int(group)]?.pins ?? [], profiles[Int(slot)]?.pins ?? []) { return .keptApart }
        return nil
    }

    private mutating func createProfile(for placement: Placement) -> Int32 {
        let id: ProfileID
        let lastSeen: Int64
        switch placement {
        case .touchpoint(let touchpoint):
            id = payloads.payload(of: touchpoint) { ProfileID(source: sources[$0.sourceIndex].utf8, messageID: $0.messageID) }
            lastSeen = touchpoint.timestamp
        case .retained(let retained):
            id = retained.history.anchor.profileID
            lastSeen = retained.history.anchor.timestamp
        }
        let record = ProfileRecord(id: id, lastSeen: lastSeen)
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            profiles[Int(slot)] = record
        } else {
            slot = Int32(profiles.count)
            profiles.append(record)
        }
        becameLive(id, slot: slot)
        return slot
    }

    /// `id` names the profile in `slot` now; it no longer forwards anywhere.
    private mutating func becameLive(_ id: ProfileID, slot: Int32) {
        slotByProfileID[id] = slot
        forwarding[id] = nil
        superseded[id] = nil
    }

    private mutating func adopt(_ identifier: UInt32, into slot: Int32) {
        owner[Int(identifier)] = slot
        ownedIdentifierCount += 1
        profiles[Int(slot)]!.identifierIDs.append(identifier)
        profiles[Int(slot)]!.typeCounts[identifierList[Int(identifier)].type, default: 0] += 1
    }

    /// Joins two profiles; the one with the earlier anchor keeps its id, the other id forwards to
    /// it. Returns the slot that now holds the joined profile.
    private mutating func join(_ first: Int32, _ second: Int32, by placement: Placement, reason: MergeRecord.Reason) -> Int32 {
        let firstSize = profiles[Int(first)]!.identifierIDs.count + profiles[Int(first)]!.touchpoints.count
        let secondSize = profiles[Int(second)]!.identifierIDs.count + profiles[Int(second)]!.touchpoints.count
        let (base, absorbed) = firstSize >= secondSize ? (first, second) : (second, first)
        let other = profiles[Int(absorbed)].take()!
        freeSlots.append(absorbed)
        slotByProfileID[other.id] = nil
        var record = profiles[Int(base)].take()!
        for identifier in other.identifierIDs { owner[Int(identifier)] = base }
        let recordFirst = anchorPrecedes(record, other)
        record.identifierIDs += other.identifierIDs
        record.typeCounts.merge(other.typeCounts, uniquingKeysWith: +)
        record.touchpoints = mergeSorted(record.touchpoints, other.touchpoints)
        record.absorbSummary(of: other)
        // The earlier-anchored profile's history first, whichever is larger: the order must not
        // depend on how many touchpoints each held (a late event joined in place adds one).
        record.history = recordFirst ? record.history + other.history : other.history + record.history
        let (survivor, loser) = recordFirst ? (record.id, other.id) : (other.id, record.id)
        record.id = survivor
        let (at, messageID) = cause(of: placement)
        record.history.append(MergeRecord(from: loser, into: survivor, at: at, messageID: messageID, reason: reason))
        slotByProfileID[loser] = nil
        becameLive(survivor, slot: base)
        forwarding[loser] = survivor
        counters.merges += 1
        enforceCap(&record)
        profiles[Int(base)] = record
        return base
    }

    /// Adds `placement` to the profile in `slot`, changing the record in place (through
    /// `ChunkedArray`'s `_modify`) with a static function given the parts of the stitcher it
    /// reads: a mutating method cannot also take one of the stitcher's records `inout`, and taking
    /// the record out and putting it back moved the whole record twice per touchpoint.
    private mutating func attach(_ placement: Placement, to slot: Int32) {
        let touchpoints = Self.attach(placement, to: &profiles[Int(slot)]!, payloads: payloads, sources: sources, splitRules: splitRules)
        guard touchpoints > maxTouchpointsPerProfile else { return }
        var record = profiles[Int(slot)].take()
        enforceCap(&record!)
        swap(&profiles[Int(slot)], &record)
    }

    /// Returns how many touchpoints the record holds now.
    private static func attach(
        _ placement: Placement, to record: inout ProfileRecord, payloads: PayloadArena, sources: NameTable, splitRules: SplitRules
    ) -> Int {
        switch placement {
        case .touchpoint(let touchpoint):
            let position = insertionIndex(of: touchpoint.reference, in: record.touchpoints, payloads: payloads, sources: sources)
            record.touchpoints.insert(touchpoint, at: position)
            record.noteTouch(channel: touchpoint.channelIndex, phase: touchpoint.phase, at: touchpoint.timestamp)
            let traits = payloads.payload(of: touchpoint) { payload -> [(key: String, entry: TraitEntry)] in
                guard !payload.traits.bytes.isEmpty else { return [] }
                let setBy = TouchKey(
                    timestamp: touchpoint.timestamp, messageID: String(decoding: payload.messageID, as: UTF8.self),
                    source: sources[touchpoint.sourceIndex])
                return payload.traits.decoded().map { ($0.key, TraitEntry(json: $0.json, setBy: setBy)) }
            }
            for trait in traits { record.setTrait(trait.key, trait.entry) }
            if let pin = splitRules.pin(at: touchpoint.payload) { record.pins.append(pin) }
        case .retained(let retained):
            record.lastSeen = max(record.lastSeen, retained.history.anchor.timestamp)
            record.channelFirstUse.merge(retained.channelFirstUse, uniquingKeysWith: min)
            record.phaseFirstReached.merge(retained.phaseFirstReached, uniquingKeysWith: min)
            for (key, entry) in retained.traits { record.setTrait(key, entry) }
            if record.retained == nil { record.retained = retained.history } else { record.retained!.absorb(retained.history) }
        }
        return record.touchpoints.count
    }

    /// Drops the oldest touchpoints past the per-profile cap; they stop counting as stored
    /// duplicates, and the profile remembers its anchor (so it keeps its id and first-seen time).
    /// Works on a record the caller holds (taken out of `profiles`), so nothing is copied.
    private mutating func enforceCap(_ record: inout ProfileRecord) {
        let excess = record.touchpoints.count - maxTouchpointsPerProfile
        guard excess > 0 else { return }
        let first = touchKey(of: record.touchpoints[0])
        if record.retained == nil {
            record.retained = RetainedHistory(anchor: first, count: 0)
        } else if first < record.retained!.anchor {
            record.retained!.anchor = first
        }
        for dropped in record.touchpoints.prefix(excess) {
            let fingerprint = payloads.payload(of: dropped) { MessageIndex.fingerprint(source: $0.sourceIndex, messageID: $0.messageID) }
            messageIndex.remove(fingerprint, at: dropped.payload)
        }
        record.touchpoints.removeFirst(excess)
        record.retained!.count += excess
        counters.touchpointsDroppedOverCap += excess
    }

    // MARK: Canonical order

    /// Whether `lhs` comes before `rhs` in the canonical order: corrected time, then message id
    /// (UTF-8 bytes), then source name.
    func precedes(_ lhs: EventReference, _ rhs: EventReference) -> Bool {
        Self.precedes(lhs, rhs, payloads: payloads, sources: sources)
    }

    func touchKey(of touchpoint: StoredTouchpoint) -> TouchKey {
        Self.touchKey(of: touchpoint, payloads: payloads, sources: sources)
    }

    // The order itself takes the arena and the source names as arguments, so that a sort can use
    // it through two local references instead of capturing (and copying) the whole stitcher.

    static func precedes(_ lhs: EventReference, _ rhs: EventReference, payloads: PayloadArena, sources: NameTable) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        return payloads.payload(at: lhs.payload) { left in
            payloads.payload(at: rhs.payload) { right in
                if !bytesEqual(left.messageID, right.messageID) { return utf8Precedes(left.messageID, right.messageID) }
                return sources[left.sourceIndex] < sources[right.sourceIndex]
            }
        }
    }

    static func precedes(_ lhs: Placement, _ rhs: Placement, payloads: PayloadArena, sources: NameTable) -> Bool {
        switch (lhs, rhs) {
        case (.touchpoint(let left), .touchpoint(let right)): return precedes(left.reference, right.reference, payloads: payloads, sources: sources)
        case (.retained(let left), .retained(let right)): return left.history.anchor < right.history.anchor
        case (.retained(let left), .touchpoint(let right)): return left.history.anchor < touchKey(of: right, payloads: payloads, sources: sources)
        case (.touchpoint(let left), .retained(let right)): return touchKey(of: left, payloads: payloads, sources: sources) < right.history.anchor
        }
    }

    static func touchKey(of touchpoint: StoredTouchpoint, payloads: PayloadArena, sources: NameTable) -> TouchKey {
        TouchKey(timestamp: touchpoint.timestamp, messageID: payloads.messageID(of: touchpoint), source: sources[touchpoint.sourceIndex])
    }

    /// Whether `lhs`'s earliest touchpoint ever comes before `rhs`'s.
    private func anchorPrecedes(_ lhs: ProfileRecord, _ rhs: ProfileRecord) -> Bool {
        switch (lhs.retained, rhs.retained) {
        case (nil, nil): return precedes(lhs.touchpoints[0].reference, rhs.touchpoints[0].reference)
        case (let left?, let right?): return left.anchor < right.anchor
        case (let left?, nil): return left.anchor < touchKey(of: rhs.touchpoints[0])
        case (nil, let right?): return touchKey(of: lhs.touchpoints[0]) < right.anchor
        }
    }

    func insertionIndex(of reference: EventReference, in touchpoints: [StoredTouchpoint]) -> Int {
        Self.insertionIndex(of: reference, in: touchpoints, payloads: payloads, sources: sources)
    }

    static func insertionIndex(
        of reference: EventReference, in touchpoints: [StoredTouchpoint], payloads: PayloadArena, sources: NameTable
    ) -> Int {
        func precedes(_ lhs: EventReference, _ rhs: EventReference) -> Bool {
            Self.precedes(lhs, rhs, payloads: payloads, sources: sources)
        }
        if let last = touchpoints.last, precedes(last.reference, reference) { return touchpoints.count }
        var low = 0
        var high = touchpoints.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(touchpoints[middle].reference, reference) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private func mergeSorted(_ left: [StoredTouchpoint], _ right: [StoredTouchpoint]) -> [StoredTouchpoint] {
        var result: [StoredTouchpoint] = []
        result.reserveCapacity(left.count + right.count)
        var (i, j) = (0, 0)
        while i < left.count, j < right.count {
            if precedes(right[j].reference, left[i].reference) {
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
}
