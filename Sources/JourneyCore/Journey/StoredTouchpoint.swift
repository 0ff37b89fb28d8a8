/// One touchpoint as the journey store keeps it: a plain value (no references), with names
/// interned and its variable-length part in the stitcher's `PayloadArena`.
struct StoredTouchpoint {
    var timestamp: Int64
    var receivedAt: Int64
    var payload: PayloadLocation
    var propertiesLength: UInt32
    var sourceIndex: UInt32
    var channelIndex: UInt32
    /// Interned event name; `NameTable` index + 1, 0 when the event has no name.
    var nameIndex: UInt32
    var type: EventType
    var phase: Phase?

    /// Where the touchpoint stands in the canonical order.
    var reference: EventReference { EventReference(timestamp: timestamp, payload: payload) }
}

/// A touchpoint's payload as laid out in the arena: a 12-byte header — source index (u32),
/// message id length (u16), link count (u8), flags (u8), traits length (u32) — then the message
/// id's UTF-8 bytes, the interned identifiers the event carried (u32 each, in priority order; the
/// edges it contributes to the identity graph), the traits it set (`EncodedTraits`), and the
/// properties JSON. The source and message id let the dedup index confirm a fingerprint match;
/// links and traits let a component be re-resolved from its events.
///
/// With the `alias` flag, the last two links are the two readings of the alias's `previousId`
/// (its `user_id` and its `anonymous_id`); which one links is decided when the event is placed.
///
/// A view into arena bytes: valid only inside the closure that handed it out.
struct TouchpointPayload {
    static let headerSize = 12
    static let aliasFlag: UInt8 = 1

    let bytes: UnsafeRawBufferPointer

    var sourceIndex: UInt32 { bytes.loadUnaligned(as: UInt32.self) }
    private var messageIDLength: Int { Int(bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self)) }
    var linkCount: Int { Int(bytes[6]) }
    var isAlias: Bool { bytes[7] & Self.aliasFlag != 0 }
    private var traitsLength: Int { Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }

    var messageID: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Self.headerSize..<(Self.headerSize + messageIDLength)])
    }

    /// The `index`th interned identifier the event carried (below `linkCount`).
    func link(_ index: Int) -> UInt32 {
        bytes.loadUnaligned(fromByteOffset: Self.headerSize + messageIDLength + 4 * index, as: UInt32.self)
    }

    var links: [UInt32] { (0..<linkCount).map(link) }

    var traits: EncodedTraits {
        let start = Self.headerSize + messageIDLength + 4 * linkCount
        return EncodedTraits(bytes: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + traitsLength)]))
    }

    func properties(length: UInt32) -> UnsafeRawBufferPointer {
        let start = Self.headerSize + messageIDLength + 4 * linkCount + traitsLength
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(length))])
    }

    /// The whole payload's size, given its properties' length (kept in the touchpoint).
    func size(propertiesLength: UInt32) -> Int {
        Self.headerSize + messageIDLength + 4 * linkCount + traitsLength + Int(propertiesLength)
    }

    static func size(messageID: Int, links: Int, traits: Int, properties: Int) -> Int {
        headerSize + messageID + 4 * links + traits + properties
    }

    /// Lays a payload out in `out`, which has exactly `size(messageID:links:traits:properties:)` bytes.
    static func write(
        into out: UnsafeMutableRawBufferPointer, source: UInt32, messageID: UnsafeRawBufferPointer, links: some Collection<UInt32>,
        alias: Bool, traits: UnsafeRawBufferPointer, properties: UnsafeRawBufferPointer
    ) {
        out.storeBytes(of: source, as: UInt32.self)
        out.storeBytes(of: UInt16(messageID.count), toByteOffset: 4, as: UInt16.self)
        out[6] = UInt8(links.count)
        out[7] = alias ? aliasFlag : 0
        out.storeBytes(of: UInt32(traits.count), toByteOffset: 8, as: UInt32.self)
        var position = headerSize
        copy(messageID, to: out, at: &position)
        for link in links {
            out.storeBytes(of: link, toByteOffset: position, as: UInt32.self)
            position += 4
        }
        copy(traits, to: out, at: &position)
        copy(properties, to: out, at: &position)
    }

    private static func copy(_ bytes: UnsafeRawBufferPointer, to out: UnsafeMutableRawBufferPointer, at position: inout Int) {
        guard !bytes.isEmpty else { return }
        out.baseAddress!.advanced(by: position).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        position += bytes.count
    }
}

/// The traits an event set, as stored in its payload: for each, the key's length (u16) and UTF-8
/// bytes, then the value's length (u32) and raw JSON. A view into arena bytes.
struct EncodedTraits {
    let bytes: UnsafeRawBufferPointer

    static func encode(_ traits: [TraitValue]) -> [UInt8] {
        var out: [UInt8] = []
        for trait in traits {
            let key = Array(trait.key.utf8.prefix(Int(UInt16.max)))
            withUnsafeBytes(of: UInt16(key.count)) { out.append(contentsOf: $0) }
            out.append(contentsOf: key)
            withUnsafeBytes(of: UInt32(trait.json.count)) { out.append(contentsOf: $0) }
            out.append(contentsOf: trait.json)
        }
        return out
    }

    func decoded() -> [TraitValue] {
        var result: [TraitValue] = []
        var position = 0
        while position < bytes.count {
            let keyLength = Int(bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self))
            position += 2
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + keyLength)]), as: UTF8.self)
            position += keyLength
            let jsonLength = Int(bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
            position += 4
            result.append(TraitValue(key: key, json: Array(bytes[position..<(position + jsonLength)])))
            position += jsonLength
        }
        return result
    }
}

extension PayloadArena {
    /// Stores a touchpoint's payload (see `TouchpointPayload`). Links beyond 255 are not kept.
    mutating func appendTouchpoint(
        source: UInt32, messageID: UnsafeRawBufferPointer, links: [UInt32], alias: Bool, traits: [UInt8], properties: UnsafeRawBufferPointer,
        newBlock: () -> [UInt8]
    ) -> PayloadLocation {
        let links = links.prefix(Int(UInt8.max))
        return traits.withUnsafeBytes { traits in
            let size = TouchpointPayload.size(messageID: messageID.count, links: links.count, traits: traits.count, properties: properties.count)
            return append(count: size, newBlock: newBlock) { out in
                TouchpointPayload.write(
                    into: out, source: source, messageID: messageID, links: links, alias: alias, traits: traits, properties: properties)
            }
        }
    }

    func payload<Result>(of touchpoint: StoredTouchpoint, _ body: (TouchpointPayload) throws -> Result) rethrows -> Result {
        try payload(at: touchpoint.payload, body)
    }

    func payload<Result>(at location: PayloadLocation, _ body: (TouchpointPayload) throws -> Result) rethrows -> Result {
        try withBytes(at: location) { try body(TouchpointPayload(bytes: $0)) }
    }

    func messageID(of touchpoint: StoredTouchpoint) -> String {
        payload(of: touchpoint) { String(decoding: $0.messageID, as: UTF8.self) }
    }
}

/// A touchpoint's place in the canonical order, held as values: corrected time, then message id
/// (UTF-8 bytes), then source name. For what outlives its touchpoint: the anchor of a profile
/// whose first touchpoints were dropped over the cap, and the event that set a trait.
struct TouchKey: Comparable {
    var timestamp: Int64
    var messageID: String
    var source: String

    static func < (lhs: TouchKey, rhs: TouchKey) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        if lhs.messageID != rhs.messageID { return lhs.messageID.utf8.lexicographicallyPrecedes(rhs.messageID.utf8) }
        return lhs.source < rhs.source
    }

    /// The id of a profile whose earliest touchpoint this is.
    var profileID: ProfileID { ProfileID(source: source.utf8, messageID: messageID.utf8) }
}
