/// Appends compact JSON text to a byte buffer.
///
/// Commas and colons are inserted automatically: call `key(_:)` before each
/// object member's value, and the value methods for array elements. The writer
/// does not check that calls are balanced or that keys are used only inside
/// objects — it is a fast output builder, not a validator. Several top-level
/// values in a row are separated by commas (not useful; start a new writer or
/// `reset()` instead, or use `newline()` for NDJSON).
///
/// Value type; not thread-safe (use one per task).
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// A value was just completed at the current level, so the next value/key needs a comma.
    var needsComma = false

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Clears the output, keeping the allocated capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// Appends `\n` and starts a fresh top-level value (for NDJSON output).
    public mutating func newline() {
        bytes.append(0x0A)
        needsComma = false
    }

    /// The output as a `String`.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    @inline(__always)
    mutating func beginValue() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    // MARK: structure

    public mutating func beginObject() {
        beginValue()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        beginValue()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key (escaped) and the colon; the next call writes its value.
    public mutating func key(_ k: String) {
        var text = k
        text.withUTF8 { appendQuotedAfterComma($0, colon: true) }
        needsComma = false
    }

    /// Writes an object key given as static text. The text is escaped like any key.
    public mutating func key(_ k: StaticString) {
        k.withUTF8Buffer { appendQuotedAfterComma($0, colon: true) }
        needsComma = false
    }

    // MARK: scalars

    /// Writes a string value: `"` `\` and control characters are escaped
    /// (`\n \r \t \b \f`, others `\u00XX`); everything else, including non-ASCII,
    /// is copied as UTF-8.
    public mutating func string(_ s: String) {
        string(utf8: s.utf8)
    }

    /// Writes a string value from UTF-8 bytes (which should be valid UTF-8;
    /// they are escaped but not validated).
    public mutating func string(utf8: some Collection<UInt8>) {
        if utf8.withContiguousStorageIfAvailable({ appendQuotedAfterComma($0) }) == nil {
            Array(utf8).withUnsafeBufferPointer { appendQuotedAfterComma($0) }
        }
        needsComma = true
    }

    /// A string value (or, with `colon`, a key and its colon) after the comma due here. Short text
    /// that needs no escaping (ids, names, keys, most values) goes out in one append (`compose`);
    /// anything else through `appendQuoted`.
    mutating func appendQuotedAfterComma(_ text: UnsafeBufferPointer<UInt8>, colon: Bool = false) {
        if text.count <= Self.shortString && !text.contains(where: Self.needsEscape) {
            compose(maxCount: text.count + 3, endsValue: !colon) { out in
                out.text("\"")
                out.json(UnsafeRawBufferPointer(text))
                if colon { out.text("\":") } else { out.text("\"") }
            }
        } else {
            beginValue()
            appendQuoted(text)
            if colon { bytes.append(UInt8(ascii: ":")) }
        }
    }

    /// Strings up to this many bytes are assembled on the stack (`appendQuotedAfterComma`).
    static let shortString = 128

    /// Writes a timestamp as an RFC 3339 string value (`Timestamp.description`) without
    /// allocating.
    public mutating func timestamp(_ t: Timestamp) {
        compose(maxCount: JSONComposer.timestampBytes, endsValue: true) { $0.timestamp(t) }
    }

    public mutating func int(_ v: Int) {
        int64(Int64(v))
    }

    public mutating func int64(_ v: Int64) {
        compose(maxCount: JSONComposer.intBytes, endsValue: true) { $0.decimal(v.magnitude, negative: v < 0) }
    }

    public mutating func uint64(_ v: UInt64) {
        compose(maxCount: JSONComposer.intBytes, endsValue: true) { $0.decimal(v, negative: false) }
    }

    /// Writes a finite double in Swift's shortest round-tripping form
    /// (e.g. `1.0`, `0.1`, `1e-07`, `1e+16`); NaN and ±infinity are written as `null`.
    public mutating func double(_ v: Double) {
        beginValue()
        if v.isFinite {
            bytes.append(contentsOf: v.description.utf8)
        } else {
            appendNull()
        }
        needsComma = true
    }

    public mutating func bool(_ v: Bool) {
        beginValue()
        if v {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
        needsComma = true
    }

    public mutating func null() {
        beginValue()
        appendNull()
        needsComma = true
    }

    /// Splices already-valid JSON text in as one value (not checked).
    public mutating func raw(_ json: some Collection<UInt8>) {
        beginValue()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// Copies a parsed value's source text.
    public mutating func value(_ v: JSONValue) {
        raw(v.rawBytes)
    }

    // MARK: convenience members

    public mutating func field(_ k: String, _ v: String) { key(k); string(v) }
    public mutating func field(_ k: String, _ v: Int) { key(k); int(v) }
    public mutating func field(_ k: String, _ v: Int64) { key(k); int64(v) }
    public mutating func field(_ k: String, _ v: Double) { key(k); double(v) }
    public mutating func field(_ k: String, _ v: Bool) { key(k); bool(v) }
    public mutating func field(_ k: String, _ v: JSONValue) { key(k); value(v) }
    /// Writes the member with `null` when `v` is nil.
    public mutating func field(_ k: String, _ v: String?) {
        key(k)
        if let v { string(v) } else { null() }
    }
    public mutating func nullField(_ k: String) { key(k); null() }
    public mutating func rawField(_ k: String, _ json: some Collection<UInt8>) { key(k); raw(json) }

    // MARK: internals

    /// Whether a byte must be escaped inside a JSON string.
    @inline(__always)
    static func needsEscape(_ c: UInt8) -> Bool {
        c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\")
    }

    /// Appends the comma due here, then what `body` writes (at most `maxCount` bytes), in one
    /// append from stack scratch (appending piece by piece would check the array's capacity and
    /// uniqueness for each piece). Afterwards a comma is due if `endsValue` (the text ended with a
    /// value, not with a key's colon or an opening brace).
    mutating func compose(maxCount: Int, endsValue: Bool, _ body: (inout JSONComposer) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxCount + 1) { scratch in
            let start = scratch.baseAddress!
            var composer = JSONComposer(start)
            if needsComma { composer.text(",") }
            body(&composer)
            bytes.append(contentsOf: UnsafeBufferPointer(start: start, count: composer.cursor - start))
        }
        needsComma = endsValue
    }

    mutating func appendNull() {
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    mutating func appendQuoted(_ src: UnsafeBufferPointer<UInt8>) {
        bytes.reserveCapacity(bytes.count + src.count + 2)
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        var k = 0
        let n = src.count
        while k < n {
            let c = src[k]
            if !Self.needsEscape(c) {
                k &+= 1
                continue
            }
            if runStart < k { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: src[runStart..<k])) }
            appendEscape(c)
            k &+= 1
            runStart = k
        }
        if runStart < n { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: src[runStart..<n])) }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func appendEscape(_ c: UInt8) {
        let short: UInt8
        switch c {
        case UInt8(ascii: "\""): short = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): short = UInt8(ascii: "\\")
        case 0x0A: short = UInt8(ascii: "n")
        case 0x0D: short = UInt8(ascii: "r")
        case 0x09: short = UInt8(ascii: "t")
        case 0x08: short = UInt8(ascii: "b")
        case 0x0C: short = UInt8(ascii: "f")
        default:
            let hi = c >> 4, lo = c & 0xF
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "u"))
            bytes.append(0x30)
            bytes.append(0x30)
            bytes.append(0x30 &+ hi)  // c < 0x20, so hi is 0 or 1
            bytes.append(lo < 10 ? 0x30 &+ lo : 0x57 &+ lo)
            return
        }
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(short)
    }
}
