/// A cheap, copyable, read-only view of one value inside a `JSONDocument`.
///
/// Holds the document's storage by reference plus a tape index, so it keeps the
/// document alive and can be passed across tasks.
///
/// String comparisons (`subscript(key:)`, `stringEquals`) are byte-exact on the
/// decoded UTF-8 (no Unicode normalisation, unlike `String.==`).
public struct JSONValue: Sendable {
    @usableFromInline let storage: JSONStorage
    @usableFromInline let index: Int

    @inlinable init(storage: JSONStorage, index: Int) {
        self.storage = storage
        self.index = index
    }

    @inlinable var entry: JSONTapeEntry { storage.tape[index] }

    // MARK: scalars

    public var kind: JSONKind {
        switch entry.kindBits {
        case JSONTape.kindNull: return .null
        case JSONTape.kindBool: return .bool
        case JSONTape.kindNumber: return .number
        case JSONTape.kindString: return .string
        case JSONTape.kindArray: return .array
        default: return .object
        }
    }

    @inlinable public var isNull: Bool { entry.kindBits == JSONTape.kindNull }
    @inlinable public var isString: Bool { entry.kindBits == JSONTape.kindString }
    @inlinable public var isNumber: Bool { entry.kindBits == JSONTape.kindNumber }
    @inlinable public var isArray: Bool { entry.kindBits == JSONTape.kindArray }
    @inlinable public var isObject: Bool { entry.kindBits == JSONTape.kindObject }

    /// The boolean, or nil unless this is `true`/`false`.
    @inlinable public var bool: Bool? {
        let e = entry
        return e.kindBits == JSONTape.kindBool ? e.flag : nil
    }

    /// The decoded string (escapes resolved), or nil unless this is a string.
    public var string: String? {
        let e = entry
        guard e.kindBits == JSONTape.kindString else { return nil }
        return storage.bytes.withUnsafeBufferPointer { buf in
            JSONStringDecoding.decode(
                UnsafeBufferPointer(rebasing: buf[Int(e.start) + 1 ..< Int(e.end) - 1]), escaped: e.flag)
        }
    }

    /// Calls `body` with a string's UTF-8 bytes as they stand in the document, without making a
    /// `String`; nil when this is not a string or holds an escape (whose bytes need decoding).
    public func withUnescapedStringBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
        let e = entry
        guard e.kindBits == JSONTape.kindString, !e.flag else { return nil }
        return storage.bytes.withUnsafeBufferPointer { buf in
            body(UnsafeBufferPointer(rebasing: buf[Int(e.start) + 1 ..< Int(e.end) - 1]))
        }
    }

    /// True if this is a string containing at least one backslash escape.
    public var stringHasEscapes: Bool {
        let e = entry
        return e.kindBits == JSONTape.kindString && e.flag
    }

    /// The number as a Double (correctly rounded; magnitudes beyond Double's
    /// range give ±infinity, tiny ones ±0), or nil unless this is a number.
    public var double: Double? {
        let e = entry
        guard e.kindBits == JSONTape.kindNumber else { return nil }
        if e.flag && e.end - e.start <= 15 {
            // Integer literal with ≤ 15 digits: exact via Int64.
            if let v = int64 { return v == 0 && storage.bytes[Int(e.start)] == UInt8(ascii: "-") ? -0.0 : Double(v) }
        }
        return storage.bytes.withUnsafeBufferPointer { buf in
            JSONStringDecoding.parseDouble(UnsafeBufferPointer(rebasing: buf[Int(e.start) ..< Int(e.end)]))
        }
    }

    /// The exact value of an integer literal (no fraction, no exponent) that fits
    /// Int64; nil for anything else (including `1.0`, `1e2` and out-of-range integers).
    public var int64: Int64? {
        let e = entry
        guard e.kindBits == JSONTape.kindNumber, e.flag else { return nil }
        return storage.bytes.withUnsafeBufferPointer { buf in
            JSONStringDecoding.parseInt64(UnsafeBufferPointer(rebasing: buf[Int(e.start) ..< Int(e.end)]))
        }
    }

    /// `int64` as `Int`.
    public var int: Int? {
        guard let v = int64 else { return nil }
        return Int(exactly: v)
    }

    /// True if this is a number written as an integer literal (no `.`/exponent),
    /// whatever its magnitude.
    public var isIntegerLiteral: Bool {
        let e = entry
        return e.kindBits == JSONTape.kindNumber && e.flag
    }

    // MARK: source

    /// The exact source bytes of this value (strings include their quotes,
    /// containers their brackets; no surrounding whitespace).
    public var rawBytes: ArraySlice<UInt8> {
        let e = entry
        return storage.bytes[Int(e.start) ..< Int(e.end)]
    }

    /// Byte range of `rawBytes` within the document's `bytes`.
    public var byteRange: Range<Int> {
        let e = entry
        return Int(e.start) ..< Int(e.end)
    }

    /// For strings: the raw bytes between the quotes (escapes NOT resolved); empty otherwise.
    public var rawStringContent: ArraySlice<UInt8> {
        let e = entry
        guard e.kindBits == JSONTape.kindString else { return storage.bytes[0..<0] }
        return storage.bytes[Int(e.start) + 1 ..< Int(e.end) - 1]
    }

    // MARK: string comparison

    /// True if this is a string whose decoded UTF-8 equals the UTF-8 of `s`.
    /// Does not allocate when the string has no escapes.
    public func stringEquals(_ s: String) -> Bool {
        guard isString else { return false }
        if let r = s.utf8.withContiguousStorageIfAvailable({ contentEquals($0) }) { return r }
        return Array(s.utf8).withUnsafeBufferPointer { contentEquals($0) }
    }

    /// True if this is a string whose decoded UTF-8 equals `s`.
    public func stringEquals(_ s: StaticString) -> Bool {
        guard isString else { return false }
        return s.withUTF8Buffer { contentEquals($0) }
    }

    /// True if this is a string whose decoded UTF-8 equals `utf8`.
    public func stringEquals(utf8: some Collection<UInt8>) -> Bool {
        guard isString else { return false }
        if let r = utf8.withContiguousStorageIfAvailable({ contentEquals($0) }) { return r }
        return Array(utf8).withUnsafeBufferPointer { contentEquals($0) }
    }

    /// `self` must be a string entry.
    @usableFromInline
    func contentEquals(_ target: UnsafeBufferPointer<UInt8>) -> Bool {
        storage.keyEquals(index, target)
    }

    // MARK: containers

    /// Number of members (objects) or elements (arrays); 0 for scalars.
    public var count: Int {
        let e = entry
        return e.kindBits >= JSONTape.kindArray ? e.count : 0
    }

    /// The array's elements in order (empty unless this is an array).
    public var elements: JSONArrayElements {
        let e = entry
        if e.kindBits == JSONTape.kindArray {
            return JSONArrayElements(storage: storage, startIndex: index + 1, endIndex: Int(e.next), count: e.count)
        }
        return JSONArrayElements(storage: storage, startIndex: index, endIndex: index, count: 0)
    }

    /// The object's members as (decoded key, value) in source order, duplicates
    /// included (empty unless this is an object).
    public var members: JSONObjectMembers {
        let e = entry
        if e.kindBits == JSONTape.kindObject {
            return JSONObjectMembers(storage: storage, startIndex: index + 1, endIndex: Int(e.next), count: e.count)
        }
        return JSONObjectMembers(storage: storage, startIndex: index, endIndex: index, count: 0)
    }

    /// Element `i` of an array (O(i): containers before it are skipped in O(1) each).
    public subscript(index i: Int) -> JSONValue? {
        let e = entry
        guard e.kindBits == JSONTape.kindArray, i >= 0, i < e.count else { return nil }
        var t = index + 1
        for _ in 0..<i { t = Int(storage.tape[t].next) }
        return JSONValue(storage: storage, index: t)
    }

    /// Object member lookup by key (byte-exact on decoded UTF-8). Nil if this is
    /// not an object or has no such key. With duplicate keys the LAST one wins
    /// (matching JavaScript's `JSON.parse`). Does not allocate for keys without escapes.
    public subscript(key: String) -> JSONValue? {
        storage.memberValueIndex(ofObjectAt: index, key: key).map { JSONValue(storage: storage, index: $0) }
    }

    /// Nested object lookup: `v[path: ["context", "device", "id"]]`. An empty path is `self`.
    /// Walks tape positions, making one `JSONValue` (one retain of the document) at the end.
    public subscript(path path: [String]) -> JSONValue? {
        var position = index
        for key in path {
            guard let next = storage.memberValueIndex(ofObjectAt: position, key: key) else { return nil }
            position = next
        }
        return JSONValue(storage: storage, index: position)
    }

    /// Calls `body` with each member's name as written (the bytes between its quotes), whether
    /// the name holds escapes, and the tape position of its value (`JSONValue(storage:index:)`),
    /// in source order, duplicates included. Nothing happens unless this is an object.
    func forEachMember(_ body: (UnsafeBufferPointer<UInt8>, Bool, Int) -> Void) {
        let e = entry
        guard e.kindBits == JSONTape.kindObject else { return }
        let end = Int(e.next)
        let tape = storage.tape
        storage.bytes.withUnsafeBufferPointer { bytes in
            var k = index + 1
            while k < end {
                let key = tape[k]
                body(UnsafeBufferPointer(rebasing: bytes[Int(key.start) + 1 ..< Int(key.end) - 1]), key.flag, k + 1)
                k = Int(tape[k + 1].next)
            }
        }
    }
}

extension JSONStorage {
    /// The tape position of the value of member `key` of the object at `position`; nil when that
    /// is not an object or has no such member. With duplicate keys the last one wins.
    func memberValueIndex(ofObjectAt position: Int, key: String) -> Int? {
        guard tape[position].kindBits == JSONTape.kindObject else { return nil }
        if let found = key.utf8.withContiguousStorageIfAvailable({ memberValueIndex(ofObjectAt: position, target: $0) }) { return found }
        return Array(key.utf8).withUnsafeBufferPointer { memberValueIndex(ofObjectAt: position, target: $0) }
    }

    private func memberValueIndex(ofObjectAt position: Int, target: UnsafeBufferPointer<UInt8>) -> Int? {
        let end = Int(tape[position].next)
        var k = position + 1
        var found: Int?
        while k < end {
            if keyEquals(k, target) { found = k + 1 }
            k = Int(tape[k + 1].next)
        }
        return found
    }

    /// Compares the decoded content of string entry `k` with `target`.
    @usableFromInline
    func keyEquals(_ k: Int, _ target: UnsafeBufferPointer<UInt8>) -> Bool {
        let e = tape[k]
        let start = Int(e.start) + 1
        let end = Int(e.end) - 1
        if !e.flag && end - start != target.count { return false }
        return bytes.withUnsafeBufferPointer { buf in
            JSONStringDecoding.contentEquals(UnsafeBufferPointer(rebasing: buf[start..<end]), escaped: e.flag, target)
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// The value's source text.
    public var description: String { String(decoding: rawBytes, as: UTF8.self) }
}

/// The elements of a JSON array, in order. Indices are opaque tape positions.
public struct JSONArrayElements: Collection, Sendable {
    public typealias Index = Int
    @usableFromInline let storage: JSONStorage
    public let startIndex: Int
    public let endIndex: Int
    public let count: Int

    @inlinable init(storage: JSONStorage, startIndex: Int, endIndex: Int, count: Int) {
        self.storage = storage
        self.startIndex = startIndex
        self.endIndex = endIndex
        self.count = count
    }

    @inlinable public var isEmpty: Bool { startIndex == endIndex }
    @inlinable public var underestimatedCount: Int { count }

    @inlinable public func index(after i: Int) -> Int { Int(storage.tape[i].next) }

    @inlinable public subscript(position: Int) -> JSONValue {
        precondition(position >= startIndex && position < endIndex, "JSONArrayElements index out of range")
        return JSONValue(storage: storage, index: position)
    }
}

/// The members of a JSON object as `(key, value)` in source order (duplicates
/// included). Indices are opaque tape positions of the keys.
public struct JSONObjectMembers: Collection, Sendable {
    public typealias Index = Int
    public typealias Element = (key: String, value: JSONValue)
    @usableFromInline let storage: JSONStorage
    public let startIndex: Int
    public let endIndex: Int
    public let count: Int

    @inlinable init(storage: JSONStorage, startIndex: Int, endIndex: Int, count: Int) {
        self.storage = storage
        self.startIndex = startIndex
        self.endIndex = endIndex
        self.count = count
    }

    @inlinable public var isEmpty: Bool { startIndex == endIndex }
    @inlinable public var underestimatedCount: Int { count }

    @inlinable public func index(after i: Int) -> Int { Int(storage.tape[i + 1].next) }

    public subscript(position: Int) -> (key: String, value: JSONValue) {
        precondition(position >= startIndex && position < endIndex, "JSONObjectMembers index out of range")
        return (JSONValue(storage: storage, index: position).string!, JSONValue(storage: storage, index: position + 1))
    }

    /// The key at `position` as a string `JSONValue` (no allocation; use
    /// `stringEquals` / `rawStringContent` on it).
    public func keyValue(at position: Int) -> JSONValue {
        precondition(position >= startIndex && position < endIndex, "JSONObjectMembers index out of range")
        return JSONValue(storage: storage, index: position)
    }

    /// Members with keys as `JSONValue`s (no String allocation per key).
    public var views: LazyMapCollection<Self.Indices, (key: JSONValue, value: JSONValue)> {
        indices.lazy.map { (JSONValue(storage: storage, index: $0), JSONValue(storage: storage, index: $0 + 1)) }
    }
}
