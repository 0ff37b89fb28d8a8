/// One customer as the stitcher holds it: identifiers, ordered journey and running summary.
/// Owned by `Stitcher`; never shared.
struct ProfileRecord {
    var id: String
    /// The earliest touchpoint ever applied; the profile id derives from it.
    var anchor: TouchKey
    var identifierIDs: [UInt32]
    var typeCounts: SmallMap<IdentifierType, Int>
    /// Ordered by `TouchKey`.
    var touchpoints: [StoredTouchpoint]
    var lastSeen: Int64
    /// Channel index → first use.
    var channelFirstUse: SmallMap<UInt32, Int64>
    var phaseFirstReached: SmallMap<Phase, Int64>
    var traits: [String: TraitEntry]
    var mergedFrom: [String]
    var droppedTouchpoints: Int

    var firstSeen: Int64 { anchor.timestamp }

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

    /// Keeps, per key, the value set by the latest event in journey order (time, message id, source),
    /// so the result does not depend on arrival order.
    mutating func setTrait(_ key: String, _ entry: TraitEntry) {
        if let existing = traits[key],
            (existing.timestamp, existing.messageID, existing.source) > (entry.timestamp, entry.messageID, entry.source)
        {
            return
        }
        traits[key] = entry
    }
}

/// A trait value and the event that set it.
struct TraitEntry {
    var json: [UInt8]
    var timestamp: Int64
    var messageID: String
    var source: String
}
