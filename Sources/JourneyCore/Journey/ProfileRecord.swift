/// One customer as the stitcher holds it: identifiers, ordered journey, running summary and the
/// merges that built it. Owned by `Stitcher`; never shared.
struct ProfileRecord {
    var id: ProfileID
    var identifierIDs: [UInt32]
    var typeCounts: SmallMap<IdentifierType, Int>
    /// Ordered canonically (time, message id, source).
    var touchpoints: [StoredTouchpoint]
    var lastSeen: Int64
    /// Channel index → first use.
    var channelFirstUse: SmallMap<UInt32, Int64>
    var phaseFirstReached: SmallMap<Phase, Int64>
    var traits: [String: TraitEntry]
    /// The merges and refused merges of this profile's history in canonical order (the rows of
    /// `merges.jsonl.gz` for it).
    var history: [MergeRecord]
    /// Identifiers its events carried that were not linked because the profile was at a limit.
    var linksRefused: Int
    /// What its touchpoints dropped over the cap left behind; nil while none was dropped.
    var retained: RetainedHistory?
    /// Ends of split rules (`SplitRules`) whose touchpoint this profile holds.
    var pins: [UInt32]

    init(id: ProfileID, lastSeen: Int64) {
        self.id = id
        identifierIDs = []
        typeCounts = [:]
        touchpoints = []
        self.lastSeen = lastSeen
        channelFirstUse = [:]
        phaseFirstReached = [:]
        traits = [:]
        history = []
        linksRefused = 0
        retained = nil
        pins = []
    }

    var droppedTouchpoints: Int { retained?.count ?? 0 }

    var firstSeen: Int64 {
        retained?.anchor.timestamp ?? touchpoints.first?.timestamp ?? lastSeen
    }

    /// Ids of the profiles merged into this one, in canonical order.
    var mergedFrom: [ProfileID] {
        history.compactMap { $0.isMerge ? $0.from : nil }
    }

    /// Phase of the most recent touchpoint that has one.
    var stage: Phase? {
        touchpoints.last(where: { $0.phase != nil })?.phase
    }

    var converted: Bool { phaseFirstReached[.buy] != nil }

    mutating func noteTouch(channel: UInt32, phase: Phase?, at timestamp: Int64) {
        lastSeen = max(lastSeen, timestamp)
        channelFirstUse[channel] = min(channelFirstUse[channel] ?? .max, timestamp)
        if let phase {
            phaseFirstReached[phase] = min(phaseFirstReached[phase] ?? .max, timestamp)
        }
    }

    /// Keeps, per key, the value set by the latest event in canonical order (time, message id,
    /// source), so the result does not depend on arrival order.
    mutating func setTrait(_ key: String, _ entry: TraitEntry) {
        if let existing = traits[key], entry.setBy < existing.setBy { return }
        traits[key] = entry
    }

    /// Takes in the summary parts of `other` (history and identifiers are the caller's).
    mutating func absorbSummary(of other: ProfileRecord) {
        lastSeen = max(lastSeen, other.lastSeen)
        channelFirstUse.merge(other.channelFirstUse, uniquingKeysWith: min)
        phaseFirstReached.merge(other.phaseFirstReached, uniquingKeysWith: min)
        for (key, entry) in other.traits { setTrait(key, entry) }
        linksRefused += other.linksRefused
        pins += other.pins
        if let theirs = other.retained {
            if retained == nil { retained = theirs } else { retained!.absorb(theirs) }
        }
    }
}

/// A trait value and the event that set it.
struct TraitEntry {
    var json: [UInt8]
    var setBy: TouchKey
}

/// What a profile keeps of the touchpoints it dropped over its cap: the earliest touchpoint ever
/// applied (its id and first-seen time derive from it) and how many were dropped. When its
/// component is re-resolved, this is replayed first, as one event at `anchor` carrying the
/// profile's identifiers, phases, channels and traits (`Stitcher.RetainedReplay`).
struct RetainedHistory {
    var anchor: TouchKey
    var count: Int

    mutating func absorb(_ other: RetainedHistory) {
        anchor = min(anchor, other.anchor)
        count += other.count
    }
}
