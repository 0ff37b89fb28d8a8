/// What the stitcher finds an event's place by — its message id (deduplication) and its
/// identifiers (profiles) — as UTF-8 bytes packed into one buffer.
///
/// As `String`s and an `[Identifier]`, a typical event's keys were four heap objects (the id,
/// two identifier values, the list), each allocated and validated on an ingest task, then
/// retained, released and freed by the stitcher on the engine's thread; packed, they are one.
/// The stitcher reads them in place (`withMessageID`, `withIdentifiers`); `messageID` and
/// `identifiers` make `String`s for everything else.
///
/// A value type, `Sendable`, never changed once built (`Builder`). Layout, lengths as
/// little-endian `UInt32`: the message id's length and bytes; the identifier count; per
/// identifier, its type's code (`IdentifierType.builtIn` position + 1, or 0 followed by the
/// custom type name's length and bytes) and its value's length and bytes.
public struct EventKeys: Sendable, Equatable {
    /// The packed bytes; read in place through the functions below.
    let bytes: [UInt8]

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Packs a message id and identifiers, as given (no normalising, no deduplication).
    public init(messageID: String, identifiers: [Identifier]) {
        var builder = Builder(messageID: messageID)
        for identifier in identifiers {
            withUTF8Bytes(of: identifier.value) { builder.appendUnchecked(identifier.type, value: $0) }
        }
        self = builder.finish()
    }

    public var messageID: String {
        withMessageID { String(decoding: $0, as: UTF8.self) }
    }

    public var identifiers: [Identifier] {
        withIdentifiers { entries in entries.map { Identifier(type: $0.type, value: String(decoding: $0.value, as: UTF8.self)) } }
    }

    /// Size of the packed buffer, for cache hints.
    var byteCount: Int { bytes.count }

    /// Calls `body` with the message id's UTF-8 bytes.
    public func withMessageID<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[4 ..< 4 + Self.length(in: raw, at: 0)]))
        }
    }

    /// Calls `body` with the identifiers, read in place: each entry's value points into this
    /// buffer and is valid only inside `body`.
    public func withIdentifiers<Result>(_ body: (IdentifierEntries) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBytes { raw in try body(IdentifierEntries(raw: raw, countOffset: 4 + Self.length(in: raw, at: 0))) }
    }

    fileprivate static func length(in raw: UnsafeRawBufferPointer, at offset: Int) -> Int {
        Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    /// One identifier read in place: its type and its value's UTF-8 bytes.
    public struct IdentifierEntry {
        public let type: IdentifierType
        public let value: UnsafeRawBufferPointer
    }

    /// An event's identifiers, read in order from its packed keys; valid only inside
    /// `withIdentifiers`.
    public struct IdentifierEntries: Sequence {
        fileprivate let raw: UnsafeRawBufferPointer
        public let count: Int
        fileprivate let start: Int

        fileprivate init(raw: UnsafeRawBufferPointer, countOffset: Int) {
            self.raw = raw
            count = EventKeys.length(in: raw, at: countOffset)
            start = countOffset + 4
        }

        public func makeIterator() -> Iterator {
            Iterator(raw: raw, remaining: count, offset: start)
        }

        public var underestimatedCount: Int { count }

        public struct Iterator: IteratorProtocol {
            fileprivate let raw: UnsafeRawBufferPointer
            fileprivate var remaining: Int
            fileprivate var offset: Int

            public mutating func next() -> IdentifierEntry? {
                guard remaining > 0 else { return nil }
                remaining -= 1
                let code = Int(raw[offset])
                offset += 1
                let type: IdentifierType
                if code > 0 {
                    type = IdentifierType.builtIn[code - 1]
                } else {
                    let length = EventKeys.length(in: raw, at: offset)
                    type = IdentifierType(rawValue: String(decoding: raw[offset + 4 ..< offset + 4 + length], as: UTF8.self))
                    offset += 4 + length
                }
                let length = EventKeys.length(in: raw, at: offset)
                let value = UnsafeRawBufferPointer(rebasing: raw[offset + 4 ..< offset + 4 + length])
                offset += 4 + length
                return IdentifierEntry(type: type, value: value)
            }
        }
    }

    /// Each built-in type's name length and first byte, in `IdentifierType.builtIn` order.
    private static let builtInShapes = IdentifierType.builtIn.map { (count: $0.rawValue.utf8.count, first: $0.rawValue.utf8.first) }

    /// A type's code: its position in `IdentifierType.builtIn` + 1, or 0 for a custom type.
    /// Names are compared only where length and first byte match (`builtInShapes`): comparing
    /// the name with every built-in type was a string comparison each, per identifier.
    fileprivate static func code(of type: IdentifierType) -> UInt8 {
        let name = type.rawValue.utf8
        for (position, shape) in builtInShapes.enumerated()
        where shape.count == name.count && shape.first == name.first && IdentifierType.builtIn[position] == type {
            return UInt8(position + 1)
        }
        return 0
    }

    /// Packs an event's keys: the message id first, then each identifier.
    public struct Builder {
        private var bytes: [UInt8] = []
        private let countOffset: Int
        public private(set) var identifierCount = 0

        public init(messageID: UnsafeRawBufferPointer) {
            // Room for a typical event's id and two or three identifiers.
            bytes.reserveCapacity(160)
            Self.appendLength(messageID.count, to: &bytes)
            bytes.append(contentsOf: messageID)
            countOffset = bytes.count
            Self.appendLength(0, to: &bytes)
        }

        public init(messageID: String) {
            self = withUTF8Bytes(of: messageID) { Builder(messageID: $0) }
        }

        /// Adds an identifier unless the event has it already (same type, same bytes).
        public mutating func append(_ type: IdentifierType, value: UnsafeRawBufferPointer) {
            let present = withEntries { entries in entries.contains { $0.type == type && bytesEqual($0.value, value) } }
            if !present { appendUnchecked(type, value: value) }
        }

        /// Adds an identifier without looking for it first.
        mutating func appendUnchecked(_ type: IdentifierType, value: UnsafeRawBufferPointer) {
            let code = EventKeys.code(of: type)
            bytes.append(code)
            if code == 0 {
                withUTF8Bytes(of: type.rawValue) { name in
                    Self.appendLength(name.count, to: &bytes)
                    bytes.append(contentsOf: name)
                }
            }
            Self.appendLength(value.count, to: &bytes)
            bytes.append(contentsOf: value)
            identifierCount += 1
            bytes.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(identifierCount).littleEndian, toByteOffset: countOffset, as: UInt32.self) }
        }

        /// Whether an identifier of `type` was added.
        public func contains(_ type: IdentifierType) -> Bool {
            withEntries { entries in entries.contains { $0.type == type } }
        }

        public consuming func finish() -> EventKeys {
            EventKeys(bytes: bytes)
        }

        private func withEntries<Result>(_ body: (IdentifierEntries) -> Result) -> Result {
            bytes.withUnsafeBytes { body(IdentifierEntries(raw: $0, countOffset: countOffset)) }
        }

        private static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
            withUnsafeBytes(of: UInt32(length).littleEndian) { bytes.append(contentsOf: $0) }
        }
    }
}
