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
        decimal(UInt64(value.magnitude), negative: value < 0)
    }

    /// Writes an integer in decimal (at most `intBytes`: a sign and 19 digits, or 20 digits).
    mutating func decimal(_ magnitude: UInt64, negative: Bool) {
        var digitCount = 1
        var scale: UInt64 = 10
        while digitCount < 20 && magnitude >= scale {
            digitCount += 1
            scale = scale &* 10
        }
        if negative {
            cursor[0] = UInt8(ascii: "-")
            cursor += 1
        }
        var rest = magnitude
        for position in stride(from: digitCount - 1, through: 0, by: -1) {
            let (quotient, digit) = rest.quotientAndRemainder(dividingBy: 10)
            cursor[position] = 0x30 &+ UInt8(truncatingIfNeeded: digit)
            rest = quotient
        }
        cursor += digitCount
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
    /// Most bytes `int` and `decimal` write.
    static let intBytes = 20
}
