/// Re-resolution: rebuilding a component's profiles from its recorded edges in canonical order.
extension Stitcher {
    /// Re-resolves every component left in `unsettled`, once each: afterwards the profiles are
    /// the canonical ones again.
    public mutating func settle() {
        guard !unsettled.isEmpty else { return }
        var resolved = Set<UInt32>()
        while let (identifier, cause) = unsettled.popLast() {
            guard !resolved.contains(identifier) else { continue }
            let members = clusters.members(ofRoot: clusters.root(of: identifier))
            resolved.formUnion(members)
            resolve(members, cause: cause)
        }
    }

    /// Takes the profiles of a component apart and places its touchpoints (and the retained
    /// history of capped profiles) again in canonical order. Ids that no longer name a profile
    /// forward to the profile that now holds their earliest touchpoint. Returns the slots of the
    /// profiles the component consists of afterwards.
    @discardableResult
    mutating func resolve(_ members: [UInt32], cause: ResolutionCause) -> [Int32] {
        var oldSlots: [Int32] = []
        var seenSlots = Set<Int32>()
        for member in members where owner[Int(member)] >= 0 && seenSlots.insert(owner[Int(member)]).inserted {
            oldSlots.append(owner[Int(member)])
        }
        var items: [Placement] = []
        items.reserveCapacity(oldSlots.reduce(0) { $0 + profiles[Int($1)]!.touchpoints.count + 1 })
        var formerIDs: [(id: ProfileID, anchor: Anchor, own: Bool)] = []
        for slot in oldSlots {
            let record = takeOut(slot)
            for touchpoint in record.touchpoints { items.append(.touchpoint(touchpoint)) }
            let anchor: Anchor
            if let retained = record.retained {
                items.append(
                    .retained(
                        RetainedReplay(
                            history: retained, identifierIDs: record.identifierIDs, channelFirstUse: record.channelFirstUse,
                            phaseFirstReached: record.phaseFirstReached, traits: record.traits)))
                anchor = .retained(retained.anchor)
            } else {
                anchor = .touchpoint(record.touchpoints[0].reference)
            }
            formerIDs.append((record.id, anchor, true))
            // Ids absorbed into it (in the history being replaced) must keep resolving too.
            for merge in record.history where merge.isMerge { formerIDs.append((merge.from, anchor, false)) }
        }
        for member in members where owner[Int(member)] >= 0 {
            owner[Int(member)] = -1
            ownedIdentifierCount -= 1
        }
        clusters.dissolve(members)
        do {
            let (arena, names) = (payloads, sources)
            items.sort { Self.precedes($0, $1, payloads: arena, sources: names) }
        }
        for item in items { placeReplayed(item) }
        counters.reResolutions += 1
        counters.reResolvedTouchpoints += items.count

        var newSlots: [Int32] = []
        seenSlots.removeAll(keepingCapacity: true)
        for member in members where owner[Int(member)] >= 0 && seenSlots.insert(owner[Int(member)]).inserted {
            newSlots.append(owner[Int(member)])
        }
        var explained = Set<ProfileID>()
        for slot in newSlots {
            for merge in profiles[Int(slot)]!.history where merge.isMerge { explained.insert(merge.from) }
        }
        var slotByAnchorID: [ProfileID: Int32]?
        for former in formerIDs where slotByProfileID[former.id] == nil && !explained.contains(former.id) {
            // An id names the touchpoint it derives from: find where that went; failing that (an
            // absorbed profile's first touchpoint dropped over the cap), where its profile's went.
            var holder = former.own ? slot(holding: former.anchor, among: newSlots) : nil
            if holder == nil {
                if slotByAnchorID == nil { slotByAnchorID = anchorIDs(of: newSlots) }
                holder = slotByAnchorID![former.id] ?? slot(holding: former.anchor, among: newSlots)
            }
            guard let holder else { continue }
            let current = profiles[Int(holder)]!.id
            forwarding[former.id] = current
            superseded[former.id] = MergeRecord(
                from: former.id, into: current, at: Timestamp(millisecondsSinceEpoch: cause.at), messageID: cause.messageID,
                reason: .superseded)
        }
        return newSlots
    }

    /// Removes the profile in `slot` and what its history counts for; returns it. Its identifiers
    /// still name the slot (the caller re-resolves or forgets them).
    mutating func takeOut(_ slot: Int32) -> ProfileRecord {
        let record = profiles[Int(slot)].take()!
        freeSlots.append(slot)
        slotByProfileID[record.id] = nil
        counters.merges -= record.history.count(where: \.isMerge)
        counters.blockedMerges -= record.history.count(where: \.blocked)
        counters.linksRefused -= record.linksRefused
        return record
    }

    /// A profile's earliest touchpoint ever, as remembered when its component is taken apart.
    enum Anchor {
        case touchpoint(EventReference)
        case retained(TouchKey)
    }

    /// The id each touchpoint (and retained anchor) of these profiles would give a profile it
    /// started, mapped to the profile's slot.
    private func anchorIDs(of slots: [Int32]) -> [ProfileID: Int32] {
        var result: [ProfileID: Int32] = [:]
        for slot in slots {
            let record = profiles[Int(slot)]!
            if let retained = record.retained { result[retained.anchor.profileID] = slot }
            for touchpoint in record.touchpoints {
                let id = payloads.payload(of: touchpoint) { ProfileID(source: sources[$0.sourceIndex].utf8, messageID: $0.messageID) }
                result[id] = slot
            }
        }
        return result
    }

    private func slot(holding anchor: Anchor, among slots: [Int32]) -> Int32? {
        for slot in slots where holds(profiles[Int(slot)]!, anchor) { return slot }
        return nil
    }

    private func holds(_ record: ProfileRecord, _ anchor: Anchor) -> Bool {
        switch anchor {
        case .touchpoint(let reference):
            let index = insertionIndex(of: reference, in: record.touchpoints)
            return index < record.touchpoints.count && record.touchpoints[index].payload == reference.payload
        case .retained(let key):
            return record.retained?.anchor == key
        }
    }
}
