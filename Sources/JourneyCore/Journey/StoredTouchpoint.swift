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
}

/// A touchpoint's payload as laid out in the arena: source index (4 bytes), message id length (2),
/// link count (1), the message id's UTF-8 bytes, the interned identifiers the event carried (4
/// bytes each; the edges it contributed to the identity graph), then the properties JSON. The
/// source index and message id are there so the dedup index can check a fingerprint match.
///
/// A view into arena bytes: valid only inside the closure that handed it out.
struct TouchpointPayload {
    static let headerSize = 7

    let bytes: UnsafeRawBufferPointer

    var sourceIndex: UInt32 { bytes.loadUnaligned(as: UInt32.self) }
    private var messageIDLength: Int { Int(bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self)) }
    var linkCount: Int { Int(bytes[6]) }

    var messageID: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Self.headerSize..<(Self.headerSize + messageIDLength)])
    }

    /// The `index`th interned identifier the event carried (below `linkCount`).
    func link(_ index: Int) -> UInt32 {
        bytes.loadUnaligned(fromByteOffset: Self.headerSize + messageIDLength + 4 * index, as: UInt32.self)
    }

    func properties(length: UInt32) -> UnsafeRawBufferPointer {
        let start = Self.headerSize + messageIDLength + 4 * linkCount
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(length))])
    }

    /// The whole payload's size, given its properties' length (kept in the touchpoint).
    func size(propertiesLength: UInt32) -> Int {
        Self.headerSize + messageIDLength + 4 * linkCount + Int(propertiesLength)
    }

    static func size(messageID: Int, links: Int, properties: Int) -> Int {
        headerSize + messageID + 4 * links + properties
    }

    /// Lays a payload out in `out`, which has exactly `size(messageID:links:properties:)` bytes.
    static func write(
        into out: UnsafeMutableRawBufferPointer, source: UInt32, messageID: UnsafeRawBufferPointer, links: some Collection<UInt32>,
        properties: UnsafeRawBufferPointer
    ) {
        out.storeBytes(of: source, as: UInt32.self)
        out.storeBytes(of: UInt16(messageID.count), toByteOffset: 4, as: UInt16.self)
        out[6] = UInt8(links.count)
        var position = headerSize
        out.baseAddress!.advanced(by: position).copyMemory(from: messageID.baseAddress!, byteCount: messageID.count)
        position += messageID.count
        for link in links {
            out.storeBytes(of: link, toByteOffset: position, as: UInt32.self)
            position += 4
        }
        if !properties.isEmpty {
            out.baseAddress!.advanced(by: position).copyMemory(from: properties.baseAddress!, byteCount: properties.count)
        }
    }
}

extension PayloadArena {
    /// Stores a touchpoint's payload (see `TouchpointPayload`). Links beyond 255 are not kept.
    mutating func appendTouchpoint(
        source: UInt32, messageID: UnsafeRawBufferPointer, links: [UInt32], properties: UnsafeRawBufferPointer
    ) -> PayloadLocation {
        let links = links.prefix(Int(UInt8.max))
        let size = TouchpointPayload.size(messageID: messageID.count, links: links.count, properties: properties.count)
        return append(count: size) { out in
            TouchpointPayload.write(into: out, source: source, messageID: messageID, links: links, properties: properties)
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

/// Calls `body` with the UTF-8 bytes of `string` (without copying them for native strings).
func withUTF8Bytes<Result>(of string: String, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
    if let result = try string.utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    return try Array(string.utf8).withUnsafeBytes(body)
}

/// Orders message ids by their UTF-8 bytes.
func utf8Precedes(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    for index in 0..<min(lhs.count, rhs.count) where lhs[index] != rhs[index] {
        return lhs[index] < rhs[index]
    }
    return lhs.count < rhs.count
}

/// The canonical order of touchpoints: corrected time, then message id (UTF-8 bytes), then
/// source name. Here for a profile's anchor, which outlives its touchpoint.
struct TouchKey: Comparable {
    var timestamp: Int64
    var messageID: String
    var source: String

    static func < (lhs: TouchKey, rhs: TouchKey) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        if lhs.messageID != rhs.messageID { return lhs.messageID.utf8.lexicographicallyPrecedes(rhs.messageID.utf8) }
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
