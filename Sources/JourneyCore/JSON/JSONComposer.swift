/// Writes JSON text through a pointer into memory its caller sized (`JSONWriter.compose`), so
/// that the fixed parts of a row (keys, ids, numbers, times, names) go out in one append instead
/// of one append per key and per value. It writes exactly what it is given: no commas, no
/// escaping; callers pass keys and values that need none.
struct JSONComposer {
    private(set) var cursor: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) {
        cursor = start
    }

    /// Copies JSON text verbatim (keys with their quotes and colon, punctuation).
    mutating func text(_ fragment: StaticString) {
        cursor.update(from: fragment.utf8Start, count: fragment.utf8CodeUnitCount)
        cursor += fragment.utf8CodeUnitCount
    }

    /// Copies bytes that are already JSON (a quoted name, an object).
    mutating func json(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        UnsafeMutableRawPointer(cursor).copyMemory(from: base, byteCount: bytes.count)
        cursor += bytes.count
    }

    mutating func json(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { json($0) }
    }

    /// Writes a string value that needs no escaping, in quotes.
    mutating func plainString(_ value: String) {
        var value = value
        text("\"")
        value.withUTF8 { json(UnsafeRawBufferPointer($0)) }
        text("\"")
    }

    mutating func int(_ value: Int) {
        cursor += JSONWriter.writeDecimal(UInt64(value.magnitude), negative: value < 0, to: cursor)
    }

    /// Writes a timestamp as an RFC 3339 string value (`Timestamp.description`).
    mutating func timestamp(_ time: Timestamp) {
        text("\"")
        time.writeRFC3339(to: cursor)
        cursor += Timestamp.rfc3339Length
        text("\"")
    }

    /// Writes a profile id as its JSON string (`"p_…"`).
    mutating func profileID(_ id: ProfileID) {
        cursor += id.writeQuoted(to: cursor)
    }

    /// Bytes `timestamp` writes.
    static let timestampBytes = Timestamp.rfc3339Length + 2
    /// Most bytes `int` writes.
    static let intBytes = 20
}

extension JSONWriter {
    /// Appends the comma due here, then what `body` writes (at most `maxCount` bytes), in one
    /// append. Afterwards a comma is due if `endsValue` (the text ended with a value, not with a
    /// key's colon or an opening brace).
    mutating func compose(maxCount: Int, endsValue: Bool, _ body: (inout JSONComposer) -> Void) {
        appendAfterComma(maxCount: maxCount) { start in
            var composer = JSONComposer(start)
            body(&composer)
            return composer.cursor - start
        }
        needsComma = endsValue
    }
}
