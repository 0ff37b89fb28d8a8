/// A fully validated JSON text plus a flat index ("tape") of its values.
///
/// Parsing is strict RFC 8259 (see docs/JSON.md):
/// - exactly one value, optionally surrounded by whitespace (space, tab, LF, CR);
///   no byte-order mark, no comments, no trailing commas, no NaN/Infinity;
/// - strings must be well-formed UTF-8 (no overlongs, no UTF-8-encoded surrogates,
///   nothing above U+10FFFF), no raw control characters (< 0x20);
/// - `\u` escapes must form valid UTF-16: a high surrogate must be immediately
///   followed by a `\u` low surrogate, and a lone low surrogate is rejected
///   (`.loneSurrogate`), so every string decodes losslessly to a Swift `String`;
/// - numbers follow the RFC grammar; their magnitude is not limited (`1e999` is
///   accepted, `double` then yields `+infinity`);
/// - nesting of arrays/objects is bounded by `maxDepth` (64 by default):
///   `maxDepth` nested containers are accepted, `maxDepth + 1` are rejected;
/// - documents must be smaller than 4 GiB.
/// Duplicate object keys are accepted and preserved; lookups return the last one.
public struct JSONDocument: Sendable {
    public static let defaultMaxDepth = 64

    @usableFromInline let storage: JSONStorage

    /// Parses and fully validates `bytes`.
    public init(bytes: [UInt8], maxDepth: Int = JSONDocument.defaultMaxDepth) throws(JSONParseError) {
        let n = bytes.count
        guard n < Int(UInt32.max) else {
            throw JSONParseError(.documentTooLarge, at: 0)
        }
        let depthLimit = max(0, maxDepth)
        let result: Result<(UnsafeMutablePointer<JSONTapeEntry>, Int), JSONParseError> =
            bytes.withUnsafeBufferPointer { buf in
                guard let base = buf.baseAddress, n > 0 else {
                    return .failure(JSONParseError(.emptyInput, at: 0))
                }
                var parser = JSONParser(base: base, count: n)
                do throws(JSONParseError) {
                    _ = try parser.parse(0..<n, maxDepth: depthLimit)
                    return .success((parser.tape, parser.tapeCount))
                } catch {
                    parser.tape.deallocate()
                    return .failure(error)
                }
            }
        switch result {
        case .success(let (tape, count)):
            storage = JSONStorage(bytes: bytes, tape: tape, tapeCount: count)
        case .failure(let error):
            throw error
        }
    }

    /// Convenience: parses the UTF-8 of `string`.
    public init(string: String, maxDepth: Int = JSONDocument.defaultMaxDepth) throws(JSONParseError) {
        try self.init(bytes: Array(string.utf8), maxDepth: maxDepth)
    }

    /// The source bytes, exactly as given to `init`.
    public var bytes: [UInt8] { storage.bytes }

    /// The top-level value.
    public var root: JSONValue { JSONValue(storage: storage, index: 0) }

    /// Number of values (including object keys) in the document.
    public var valueCount: Int { storage.tapeCount }
}

/// Single-pass validating parser writing the tape. Works on a raw pointer that is only valid
/// while the caller holds the buffer (`withUnsafeBufferPointer`). One parser can put several
/// JSON texts of one buffer on one tape (`parse(_:maxDepth:)` per text, as `JSONLines` does);
/// positions on the tape are offsets in the whole buffer.
struct JSONParser {
    let p: UnsafePointer<UInt8>
    /// The end of the text being parsed.
    var n: Int
    var i: Int = 0
    var tape: UnsafeMutablePointer<JSONTapeEntry>
    var capacity: Int
    var tapeCount: Int = 0

    init(base: UnsafePointer<UInt8>, count: Int) {
        p = base
        n = count
        // Typical events hold one value per ~10-20 bytes; grow by doubling if not.
        capacity = max(16, count / 8)
        tape = UnsafeMutablePointer<JSONTapeEntry>.allocate(capacity: capacity)
    }

    /// Parses the bytes at `range` as one JSON text, appending its values to the tape, and
    /// returns the tape index of its root. On failure the tape is left as it was and the
    /// error's offset counts from the start of `range`.
    mutating func parse(_ range: Range<Int>, maxDepth: Int) throws(JSONParseError) -> Int {
        let root = tapeCount
        i = range.lowerBound
        n = range.upperBound
        do {
            try run(maxDepth: maxDepth)
        } catch {
            tapeCount = root
            throw JSONParseError(error.reason, at: error.offset - range.lowerBound)
        }
        return root
    }

    // MARK: tape

    @inline(never)
    mutating func grow() {
        let newCapacity = capacity * 2
        let newTape = UnsafeMutablePointer<JSONTapeEntry>.allocate(capacity: newCapacity)
        newTape.moveInitialize(from: tape, count: tapeCount)
        tape.deallocate()
        tape = newTape
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(start: Int, end: Int, meta: UInt32) {
        if tapeCount == capacity { grow() }
        (tape + tapeCount).initialize(to: JSONTapeEntry(
            start: UInt32(truncatingIfNeeded: start),
            end: UInt32(truncatingIfNeeded: end),
            next: UInt32(truncatingIfNeeded: tapeCount &+ 1),
            meta: meta))
        tapeCount &+= 1
    }

    // MARK: driver

    @inline(__always)
    mutating func skipWhitespace() {
        while i < n {
            let c = p[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                i &+= 1
            } else {
                return
            }
        }
    }

    private mutating func run(maxDepth: Int) throws(JSONParseError) {
        skipWhitespace()
        if i == n { throw JSONParseError(.emptyInput, at: n) }

        var depth = 0
        var top = 0            // tape index of the innermost open container (valid when depth > 0)
        var inObject = false   // innermost open container is an object

        valueLoop: while true {
            // Expect a value at `i` (whitespace already skipped).
            guard i < n else { throw JSONParseError(.unexpectedEnd, at: n) }
            let c = p[i]
            switch c {
            case UInt8(ascii: "\""):
                try parseString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = c == UInt8(ascii: "{")
                if depth >= maxDepth { throw JSONParseError(.tooDeep(limit: maxDepth), at: i) }
                let index = tapeCount
                // While open, `next` holds the parent container's index.
                append(start: i, end: 0, meta: isObject ? JSONTape.kindObject : JSONTape.kindArray)
                tape[index].next = UInt32(truncatingIfNeeded: top)
                i &+= 1
                skipWhitespace()
                if i < n && p[i] == c &+ 2 {  // '}' == '{' + 2, ']' == '[' + 2
                    i &+= 1
                    tape[index].end = UInt32(truncatingIfNeeded: i)
                    tape[index].next = UInt32(truncatingIfNeeded: tapeCount)
                } else {
                    depth &+= 1
                    top = index
                    inObject = isObject
                    if isObject { try parseKey() }
                    continue valueLoop
                }
            case UInt8(ascii: "t"):
                try expectLiteral(0x6575_7274, "true")   // "true" little-endian
                append(start: i, end: i &+ 4, meta: JSONTape.kindBool | JSONTape.flag)
                i &+= 4
            case UInt8(ascii: "f"):
                try expectLiteral(0x6573_6C61, "false", offset: 1)  // "alse"
                append(start: i, end: i &+ 5, meta: JSONTape.kindBool)
                i &+= 5
            case UInt8(ascii: "n"):
                try expectLiteral(0x6C6C_756E, "null")
                append(start: i, end: i &+ 4, meta: JSONTape.kindNull)
                i &+= 4
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try parseNumber()
            default:
                throw JSONParseError(.unexpectedByte(c), at: i)
            }

            // After a value: close containers / take separators.
            while true {
                if depth == 0 {
                    skipWhitespace()
                    if i != n { throw JSONParseError(.trailingContent, at: i) }
                    return
                }
                skipWhitespace()
                guard i < n else { throw JSONParseError(.unexpectedEnd, at: n) }
                let c = p[i]
                if c == UInt8(ascii: ",") {
                    if tape[top].meta >> JSONTape.countShift >= JSONTape.maxCount - 1 {
                        throw JSONParseError(.documentTooLarge, at: i)
                    }
                    tape[top].meta &+= JSONTape.countUnit
                    i &+= 1
                    skipWhitespace()
                    if inObject { try parseKey() }
                    continue valueLoop
                }
                if c == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i &+= 1
                    tape[top].meta &+= JSONTape.countUnit  // the last member
                    tape[top].end = UInt32(truncatingIfNeeded: i)
                    let parent = Int(tape[top].next)
                    tape[top].next = UInt32(truncatingIfNeeded: tapeCount)
                    depth &-= 1
                    if depth > 0 {
                        top = parent
                        inObject = tape[top].meta & 7 == JSONTape.kindObject
                    }
                    continue
                }
                throw JSONParseError(.unexpectedByte(c), at: i)
            }
        }
    }

    /// Parses `"key"` `:` and the whitespace after it.
    @inline(__always)
    mutating func parseKey() throws(JSONParseError) {
        guard i < n else { throw JSONParseError(.unexpectedEnd, at: n) }
        guard p[i] == UInt8(ascii: "\"") else { throw JSONParseError(.unexpectedByte(p[i]), at: i) }
        try parseString()
        skipWhitespace()
        guard i < n else { throw JSONParseError(.unexpectedEnd, at: n) }
        guard p[i] == UInt8(ascii: ":") else { throw JSONParseError(.unexpectedByte(p[i]), at: i) }
        i &+= 1
        skipWhitespace()
    }

    /// Checks the 4 bytes at `i + offset` equal `word` (little-endian); on
    /// mismatch reports the first differing byte of `literal`.
    @inline(__always)
    func expectLiteral(_ word: UInt32, _ literal: StaticString, offset: Int = 0) throws(JSONParseError) {
        if i &+ offset &+ 4 <= n {
            let w = UInt32(littleEndian: UnsafeRawPointer(p + i + offset).loadUnaligned(as: UInt32.self))
            if w == word { return }
        }
        try literalMismatch(literal)
    }

    @inline(never)
    func literalMismatch(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let lit = literal.utf8Start
        for k in 0..<count {
            guard i + k < n else { throw JSONParseError(.unexpectedEnd, at: n) }
            if p[i + k] != lit[k] { throw JSONParseError(.unexpectedByte(p[i + k]), at: i + k) }
        }
    }

    // MARK: strings

    /// Bit 7 of each byte of the result is set for bytes that end the fast ASCII
    /// run: `"`, `\`, < 0x20, >= 0x80. Only the lowest set byte is exact (borrows
    /// may flag later bytes), which is all the caller uses.
    @inline(__always)
    static func specialMask(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let q = w ^ (ones &* 0x22)
        let b = w ^ (ones &* 0x5C)
        let quote = (q &- ones) & ~q
        let backslash = (b &- ones) & ~b
        let control = (w &- ones &* 0x20) & ~w
        return (quote | backslash | control | w) & high
    }

    /// `i` is at the opening quote; on return `i` is just past the closing quote.
    @inline(__always)
    mutating func parseString() throws(JSONParseError) {
        let start = i
        i &+= 1
        var meta = JSONTape.kindString
        while true {
            while i &+ 8 <= n {
                let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                let m = JSONParser.specialMask(w)
                if m != 0 {
                    i &+= m.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            guard i < n else { throw JSONParseError(.unterminatedString, at: n) }
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                i &+= 1
                append(start: start, end: i, meta: meta)
                return
            } else if c == UInt8(ascii: "\\") {
                meta = JSONTape.kindString | JSONTape.flag
                try parseEscape()
            } else if c < 0x20 {
                throw JSONParseError(.controlCharacterInString, at: i)
            } else if c >= 0x80 {
                try validateUTF8Sequence()
            } else {
                i &+= 1
            }
        }
    }

    /// `i` is at a backslash.
    mutating func parseEscape() throws(JSONParseError) {
        guard i &+ 1 < n else { throw JSONParseError(.unterminatedString, at: n) }
        switch p[i &+ 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            i &+= 2
        case UInt8(ascii: "u"):
            let unit = try hex4(at: i &+ 2, escapeStart: i)
            if unit >= 0xD800 && unit <= 0xDBFF {
                let low = i &+ 6
                guard low < n else { throw JSONParseError(.unterminatedString, at: n) }
                guard p[low] == UInt8(ascii: "\\") else { throw JSONParseError(.loneSurrogate, at: i) }
                guard low &+ 1 < n else { throw JSONParseError(.unterminatedString, at: n) }
                guard p[low &+ 1] == UInt8(ascii: "u") else { throw JSONParseError(.loneSurrogate, at: i) }
                let unit2 = try hex4(at: low &+ 2, escapeStart: low)
                guard unit2 >= 0xDC00 && unit2 <= 0xDFFF else {
                    throw JSONParseError(.loneSurrogate, at: i)
                }
                i &+= 12
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw JSONParseError(.loneSurrogate, at: i)
            } else {
                i &+= 6
            }
        default:
            throw JSONParseError(.invalidEscape, at: i)
        }
    }

    @inline(__always)
    func hex4(at position: Int, escapeStart: Int) throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<4 {
            let q = position &+ k
            guard q < n else { throw JSONParseError(.unterminatedString, at: n) }
            guard let d = JSONParser.hexValue(p[q]) else {
                throw JSONParseError(.invalidUnicodeEscape, at: escapeStart)
            }
            value = value &<< 4 | d
        }
        return value
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt32? {
        if c &- 0x30 < 10 { return UInt32(c &- 0x30) }
        let l = c | 0x20
        if l &- 0x61 < 6 { return UInt32(l &- 0x61 &+ 10) }
        return nil
    }

    /// `i` is at a byte >= 0x80 inside a string. Validates one UTF-8 sequence
    /// per Unicode Table 3-7 (well-formed byte sequences).
    mutating func validateUTF8Sequence() throws(JSONParseError) {
        let c0 = p[i]
        let length: Int
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch c0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; hi = 0x9F
        case 0xF0: length = 4; lo = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; hi = 0x8F
        default: throw JSONParseError(.invalidUTF8, at: i)
        }
        guard i &+ length <= n else {
            // Truncated at end of input: report an invalid sequence if what is
            // there is already wrong, otherwise the string is unterminated.
            var k = 1
            while i &+ k < n {
                let c = p[i &+ k]
                let ok = k == 1 ? (c >= lo && c <= hi) : (c & 0xC0 == 0x80)
                if !ok { throw JSONParseError(.invalidUTF8, at: i) }
                k &+= 1
            }
            throw JSONParseError(.unterminatedString, at: n)
        }
        let c1 = p[i &+ 1]
        guard c1 >= lo && c1 <= hi else { throw JSONParseError(.invalidUTF8, at: i) }
        if length >= 3 {
            guard p[i &+ 2] & 0xC0 == 0x80 else { throw JSONParseError(.invalidUTF8, at: i) }
            if length == 4 {
                guard p[i &+ 3] & 0xC0 == 0x80 else { throw JSONParseError(.invalidUTF8, at: i) }
            }
        }
        i &+= length
    }

    // MARK: numbers

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    /// `i` is at `-` or a digit.
    mutating func parseNumber() throws(JSONParseError) {
        let start = i
        var meta = JSONTape.kindNumber | JSONTape.flag
        if p[i] == UInt8(ascii: "-") {
            i &+= 1
            guard i < n, JSONParser.isDigit(p[i]) else { throw JSONParseError(.invalidNumber, at: i) }
        }
        if p[i] == UInt8(ascii: "0") {
            i &+= 1
            if i < n && JSONParser.isDigit(p[i]) { throw JSONParseError(.invalidNumber, at: i) }
        } else {
            i &+= 1
            while i < n && JSONParser.isDigit(p[i]) { i &+= 1 }
        }
        if i < n && p[i] == UInt8(ascii: ".") {
            meta = JSONTape.kindNumber
            i &+= 1
            guard i < n, JSONParser.isDigit(p[i]) else { throw JSONParseError(.invalidNumber, at: i) }
            i &+= 1
            while i < n && JSONParser.isDigit(p[i]) { i &+= 1 }
        }
        if i < n && p[i] | 0x20 == UInt8(ascii: "e") {
            meta = JSONTape.kindNumber
            i &+= 1
            if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i &+= 1 }
            guard i < n, JSONParser.isDigit(p[i]) else { throw JSONParseError(.invalidNumber, at: i) }
            i &+= 1
            while i < n && JSONParser.isDigit(p[i]) { i &+= 1 }
        }
        append(start: start, end: i, meta: meta)
    }
}
