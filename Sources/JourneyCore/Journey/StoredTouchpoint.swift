/// One touchpoint as the journey store keeps it: compact, with names interned.
struct StoredTouchpoint {
    var timestamp: Int64
    var receivedAt: Int64
    var messageID: String
    var sourceIndex: UInt32
    var channelIndex: UInt32
    /// Interned event name; `NameTable` index + 1, 0 when the event has no name.
    var nameIndex: UInt32
    var type: EventType
    var phase: Phase?
    /// Interned identifiers the event carried (the edges it contributes to the identity graph).
    var links: IdentifierLinks
    var properties: [UInt8]
}

/// The canonical order of touchpoints: corrected time, then message id, then source name.
struct TouchKey: Comparable {
    var timestamp: Int64
    var messageID: String
    var source: String

    static func < (lhs: TouchKey, rhs: TouchKey) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        if lhs.messageID != rhs.messageID { return lhs.messageID < rhs.messageID }
        return lhs.source < rhs.source
    }

    /// The deterministic profile id of a profile whose earliest touchpoint this is.
    var profileID: String {
        var hash = StableHash()
        hash.combine(source.utf8)
        hash.combineSeparator()
        hash.combine(messageID.utf8)
        return "p_" + hash.hex
    }
}

/// Identifies a stored message for deduplication: source plus message id.
struct MessageKey: Hashable {
    var sourceIndex: UInt32
    var messageID: String
}
