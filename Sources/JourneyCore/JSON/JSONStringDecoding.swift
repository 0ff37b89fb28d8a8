/// Helpers for reading string/number tokens that the parser has already validated.
/// They trust their input (only call them on tape entries of a parsed document).
@usableFromInline
enum JSONStringDecoding {
    /// Resolves escapes in the (validated) string content `src` (between the
    /// quotes) into `dst`, which must have room for `src.count` bytes (escapes
    /// never expand). Returns the number of bytes written.
    @usableFromInline
    static func unescape(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutablePointer<UInt8>) -> Int {
        let n = src.count
        var r = 0
        var w = 0
        while r < n {
            let c = src[r]
            if c != UInt8(ascii: "\\") {
                dst[w] = c
                w &+= 1
                r &+= 1
                continue
            }
            let e = src[r &+ 1]
            r &+= 2
            let out: UInt8
            switch e {
            case UInt8(ascii: "b"): out = 0x08
            case UInt8(ascii: "f"): out = 0x0C
            case UInt8(ascii: "n"): out = 0x0A
            case UInt8(ascii: "r"): out = 0x0D
            case UInt8(ascii: "t"): out = 0x09
            case UInt8(ascii: "u"):
                var scalar = hex4(src, r)
                r &+= 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    // Validated: a `\uDC00`-`\uDFFF` escape follows.
                    let low = hex4(src, r &+ 2)
                    r &+= 6
                    scalar = 0x10000 &+ ((scalar &- 0xD800) &<< 10) &+ (low &- 0xDC00)
                }
                w &+= encodeUTF8(scalar, dst + w)
                continue
            default: out = e  // " \ /
            }
            dst[w] = out
            w &+= 1
        }
        return w
    }

    @inline(__always)
    static func hex4(_ src: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = src[at &+ k]
            let d: UInt32 = c &- 0x30 < 10 ? UInt32(c &- 0x30) : UInt32((c | 0x20) &- 0x61 &+ 10)
            v = v &<< 4 | d
        }
        return v
    }

    @inline(__always)
    static func encodeUTF8(_ s: UInt32, _ dst: UnsafeMutablePointer<UInt8>) -> Int {
        if s < 0x80 {
            dst[0] = UInt8(truncatingIfNeeded: s)
            return 1
        } else if s < 0x800 {
            dst[0] = UInt8(truncatingIfNeeded: 0xC0 | (s &>> 6))
            dst[1] = UInt8(truncatingIfNeeded: 0x80 | (s & 0x3F))
            return 2
        } else if s < 0x10000 {
            dst[0] = UInt8(truncatingIfNeeded: 0xE0 | (s &>> 12))
            dst[1] = UInt8(truncatingIfNeeded: 0x80 | ((s &>> 6) & 0x3F))
            dst[2] = UInt8(truncatingIfNeeded: 0x80 | (s & 0x3F))
            return 3
        } else {
            dst[0] = UInt8(truncatingIfNeeded: 0xF0 | (s &>> 18))
            dst[1] = UInt8(truncatingIfNeeded: 0x80 | ((s &>> 12) & 0x3F))
            dst[2] = UInt8(truncatingIfNeeded: 0x80 | ((s &>> 6) & 0x3F))
            dst[3] = UInt8(truncatingIfNeeded: 0x80 | (s & 0x3F))
            return 4
        }
    }

    /// Byte-wise equality of two buffers of the same length `count`.
    @inline(__always)
    static func equalBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var k = 0
        while k &+ 8 <= count {
            let x = UnsafeRawPointer(a + k).loadUnaligned(as: UInt64.self)
            let y = UnsafeRawPointer(b + k).loadUnaligned(as: UInt64.self)
            if x != y { return false }
            k &+= 8
        }
        while k < count {
            if a[k] != b[k] { return false }
            k &+= 1
        }
        return true
    }

    /// Compares validated string content `content` (between the quotes; with
    /// escapes when `escaped`) with the UTF-8 bytes `target`, byte for byte.
    @usableFromInline
    static func contentEquals(_ content: UnsafeBufferPointer<UInt8>, escaped: Bool,
                              _ target: UnsafeBufferPointer<UInt8>) -> Bool {
        if !escaped {
            guard content.count == target.count else { return false }
            guard let a = content.baseAddress, let b = target.baseAddress else { return true }
            return equalBytes(a, b, content.count)
        }
        // Escapes only shrink text, so a decoded form can't be longer than `content`.
        guard target.count <= content.count else { return false }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: content.count) { tmp in
            let written = unescape(content, into: tmp.baseAddress!)
            guard written == target.count else { return false }
            guard let b = target.baseAddress else { return true }
            return equalBytes(tmp.baseAddress!, b, written)
        }
    }

    /// Decodes validated string content to a `String`.
    @usableFromInline
    static func decode(_ content: UnsafeBufferPointer<UInt8>, escaped: Bool) -> String {
        if !escaped {
            return String(decoding: content, as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: content.count) { dst in
            unescape(content, into: dst.baseAddress!)
        }
    }

    // MARK: numbers

    @usableFromInline
    static let powersOf10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Parses a validated RFC 8259 number. Correctly rounded: exact fast path
    /// when mantissa ≤ 2^53 and |exponent| ≤ 22, otherwise the standard library's
    /// (correctly rounding) parser. Overflow gives ±infinity, underflow ±0.
    @usableFromInline
    static func parseDouble(_ s: UnsafeBufferPointer<UInt8>) -> Double {
        let n = s.count
        var k = 0
        var negative = false
        if s[0] == UInt8(ascii: "-") { negative = true; k = 1 }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exp10 = 0
        var fast = true
        while k < n, s[k] &- 0x30 < 10 {
            let d = UInt64(s[k] &- 0x30)
            if mantissa != 0 || d != 0 {
                if significantDigits < 19 { mantissa = mantissa &* 10 &+ d } else { fast = false }
                significantDigits &+= 1
            }
            k &+= 1
        }
        if k < n, s[k] == UInt8(ascii: ".") {
            k &+= 1
            while k < n, s[k] &- 0x30 < 10 {
                let d = UInt64(s[k] &- 0x30)
                if mantissa != 0 || d != 0 {
                    if significantDigits < 19 { mantissa = mantissa &* 10 &+ d } else { fast = false }
                    significantDigits &+= 1
                }
                exp10 &-= 1
                k &+= 1
            }
        }
        if k < n {  // exponent
            k &+= 1
            var expNegative = false
            if s[k] == UInt8(ascii: "-") { expNegative = true; k &+= 1 } else if s[k] == UInt8(ascii: "+") { k &+= 1 }
            var e = 0
            while k < n {
                if e < 100_000 { e = e &* 10 &+ Int(s[k] &- 0x30) } else { fast = false }
                k &+= 1
            }
            exp10 &+= expNegative ? -e : e
        }
        if mantissa == 0 && fast { return negative ? -0.0 : 0.0 }
        if fast && mantissa <= (1 << 53) && exp10 >= -22 && exp10 <= 22 {
            var v = Double(mantissa)
            if exp10 < 0 { v /= powersOf10[-exp10] } else { v *= powersOf10[exp10] }
            return negative ? -v : v
        }
        let text = String(decoding: s, as: UTF8.self)
        return Double(text) ?? .nan  // grammar already validated; never nil in practice
    }

    /// Exact Int64 value of a validated integer literal, or nil if out of range.
    @usableFromInline
    static func parseInt64(_ s: UnsafeBufferPointer<UInt8>) -> Int64? {
        var k = 0
        var negative = false
        if s[0] == UInt8(ascii: "-") { negative = true; k = 1 }
        guard s.count - k <= 19 else { return nil }  // no leading zeros, so > 19 digits overflows
        var v: UInt64 = 0
        while k < s.count {
            v = v &* 10 &+ UInt64(s[k] &- 0x30)
            k &+= 1
        }
        if negative {
            if v <= UInt64(Int64.max) { return -Int64(v) }
            if v == UInt64(Int64.max) + 1 { return Int64.min }
            return nil
        }
        return v <= UInt64(Int64.max) ? Int64(v) : nil
    }
}
