import Testing
@testable import JourneyCore

private func parse(_ s: String, maxDepth: Int = JSONDocument.defaultMaxDepth) throws -> JSONDocument {
    try JSONDocument(bytes: Array(s.utf8), maxDepth: maxDepth)
}

/// The error for `bytes`, or nil if they parse.
private func parseError(_ bytes: [UInt8], maxDepth: Int = JSONDocument.defaultMaxDepth) -> JSONParseError? {
    do {
        _ = try JSONDocument(bytes: bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

private func parseError(_ s: String, maxDepth: Int = JSONDocument.defaultMaxDepth) -> JSONParseError? {
    parseError(Array(s.utf8), maxDepth: maxDepth)
}

private func text(_ slice: ArraySlice<UInt8>) -> String { String(decoding: slice, as: UTF8.self) }

/// Deterministic PRNG (SplitMix64) so failures are reproducible.
struct JSONTestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("JSONValue")
struct JSONValueTests {
    // MARK: scalars and kinds

    @Test func scalarsAndKinds() throws {
        let doc = try parse(#"[null, true, false, 12, -3.5, "hi", [], {}]"#)
        let e = Array(doc.root.elements)
        #expect(e.map(\.kind) == [.null, .bool, .bool, .number, .number, .string, .array, .object])
        #expect(e[0].isNull && !e[1].isNull)
        #expect(e[1].bool == true && e[2].bool == false && e[0].bool == nil && e[5].bool == nil)
        #expect(e[3].int64 == 12 && e[3].double == 12 && e[3].int == 12)
        #expect(e[4].double == -3.5 && e[4].int64 == nil)
        #expect(e[5].string == "hi" && e[3].string == nil && e[5].double == nil && e[5].int64 == nil)
        #expect(e[6].count == 0 && e[7].count == 0 && e[5].count == 0)
        #expect(doc.root.count == 8)
        #expect(doc.valueCount == 9)
    }

    @Test func scalarRoots() throws {
        #expect(try parse("  42 ").root.int64 == 42)
        #expect(try parse("\"x\"").root.string == "x")
        #expect(try parse("true").root.bool == true)
        #expect(try parse("false").root.bool == false)
        #expect(try parse("null").root.isNull)
        #expect(try parse("-0.0e0").root.double == 0)
    }

    @Test func rawBytesAreExact() throws {
        let src = #" { "a" : [1 , "x\n\u0041" ,{"b":null}] , "c":true, "d": -1.5e+3 } "#
        let doc = try parse(src)
        let r = doc.root
        #expect(text(r.rawBytes) == #"{ "a" : [1 , "x\n\u0041" ,{"b":null}] , "c":true, "d": -1.5e+3 }"#)
        let a = try #require(r["a"])
        #expect(text(a.rawBytes) == #"[1 , "x\n\u0041" ,{"b":null}]"#)
        #expect(text(a[index: 0]!.rawBytes) == "1")
        #expect(text(a[index: 1]!.rawBytes) == #""x\n\u0041""#)
        #expect(a[index: 1]!.string == "x\nA")
        #expect(text(a[index: 1]!.rawStringContent) == #"x\n\u0041"#)
        #expect(text(a[index: 2]!.rawBytes) == #"{"b":null}"#)
        #expect(text(r["c"]!.rawBytes) == "true")
        #expect(text(r["d"]!.rawBytes) == "-1.5e+3")
        #expect(r["d"]!.double == -1500)
        #expect(r["d"]!.byteRange == src.utf8.count - 10 ..< src.utf8.count - 3)
        #expect(r.description == text(r.rawBytes))
        #expect(Array(doc.bytes) == Array(src.utf8))
    }

    // MARK: objects

    @Test func duplicateKeysLastWins() throws {
        let doc = try parse(#"{"a":1,"b":{"x":1},"a":2,"b":{"y":2}}"#)
        #expect(doc.root["a"]?.int64 == 2)
        #expect(doc.root["b"]?["y"]?.int64 == 2)
        #expect(doc.root["b"]?["x"] == nil)
        #expect(doc.root.count == 4)
        #expect(doc.root.members.map(\.key) == ["a", "b", "a", "b"])
        #expect(doc.root.members.map { $0.value.int64 } == [1, nil, 2, nil])
    }

    @Test func keyLookupAndPaths() throws {
        let doc = try parse(#"""
        {"type":"track","userId":"u1","context":{"device":{"id":"dev-1","type":"ios"},"ip":"1.2.3.4"},
         "properties":{"revenue":12.5,"items":[{"sku":"a"},{"sku":"b"}]},"":"empty","k\u00e9y":1,"k\"q":2}
        """#)
        let r = doc.root
        #expect(r["type"]?.string == "track")
        #expect(r[path: ["context", "device", "id"]]?.string == "dev-1")
        #expect(r[path: ["context", "device", "type"]]?.stringEquals("ios") == true)
        #expect(r[path: ["context", "device", "missing"]] == nil)
        #expect(r[path: ["type", "x"]] == nil)  // through a non-object
        #expect(r[path: []]?.kind == .object)
        #expect(r[path: ["properties", "revenue"]]?.double == 12.5)
        #expect(r["properties"]?["items"]?.elements.map { $0["sku"]!.string! } == ["a", "b"])
        #expect(r[""]?.string == "empty")
        #expect(r["kéy"]?.int64 == 1)        // escaped key vs UTF-8 wanted key
        #expect(r["k\"q"]?.int64 == 2)
        #expect(r["ké"] == nil && r["kéyy"] == nil && r["Type"] == nil)
        #expect(r["type"]?["x"] == nil)       // lookup on a string
        #expect(try parse("[1]").root["0"] == nil)
        // Prefix / length mismatches must not match.
        #expect(r["typ"] == nil && r["types"] == nil)
        // Keys as JSONValue, no allocation.
        let views = r.members.views.map { $0.key }
        #expect(views.first?.stringEquals("type") == true)
        #expect(r.members.keyValue(at: r.members.startIndex).stringEquals("type"))
    }

    @Test func longKeysAcrossWordBoundaries() throws {
        // Keys of many lengths exercise the 8-byte compare loop and its tail.
        for len in 0..<40 {
            let key = String((0..<len).map { Character(Unicode.Scalar(UInt8(97 + $0 % 26))) })
            var other = Array(key.utf8)
            if len > 0 { other[len - 1] = UInt8(ascii: "Z") }
            let doc = try parse("{\"\(String(decoding: other, as: UTF8.self))\":0,\"\(key)\":1}")
            #expect(doc.root[key]?.int64 == 1, "len \(len)")  // len 0: duplicate "" keys, last wins
            if len > 0 {
                #expect(doc.root[String(decoding: other, as: UTF8.self)]?.int64 == 0, "len \(len)")
            }
        }
    }

    @Test func membersAndElementsOnWrongKinds() throws {
        let doc = try parse(#"{"a":[1,2,3],"s":"x"}"#)
        #expect(doc.root.elements.isEmpty)
        #expect(doc.root["a"]!.members.isEmpty)
        #expect(doc.root["s"]!.elements.isEmpty && doc.root["s"]!.members.isEmpty)
        #expect(doc.root["a"]!.elements.map { $0.int64! } == [1, 2, 3])
        #expect(doc.root["a"]!.elements.count == 3)
        #expect(doc.root["a"]![index: 3] == nil && doc.root["a"]![index: -1] == nil)
        #expect(doc.root[index: 0] == nil)
    }

    @Test func nestedSkipping() throws {
        // elements/members must skip whole nested containers.
        let doc = try parse(#"[[1,[2,[3]]],{"a":{"b":[4]}},5,[],{},[[]],6]"#)
        let e = Array(doc.root.elements)
        #expect(e.count == 7)
        #expect(e.map(\.kind) == [.array, .object, .number, .array, .object, .array, .number])
        #expect(e[2].int64 == 5 && e[6].int64 == 6)
        #expect(doc.root[index: 6]?.int64 == 6)
        #expect(e[1][path: ["a", "b"]]?[index: 0]?.int64 == 4)
        #expect(e[0][index: 1]?[index: 1]?[index: 0]?.int64 == 3)
    }

    @Test func manyValuesGrowTheTape() throws {
        // n/2 values forces several tape reallocations.
        let n = 100_000
        let src = "[" + Array(repeating: "7", count: n).joined(separator: ",") + "]"
        let doc = try parse(src)
        #expect(doc.root.count == n)
        #expect(doc.valueCount == n + 1)
        var sum: Int64 = 0
        for v in doc.root.elements { sum += v.int64! }
        #expect(sum == Int64(7 * n))
    }

    @Test func valueOutlivesDocumentAndCrossesTasks() async throws {
        let value: JSONValue = try {
            let doc = try parse(#"{"a":{"b":"deep"}}"#)
            return doc.root["a"]!
        }()
        let result = await Task.detached { value["b"]?.string }.value
        #expect(result == "deep")
    }

    // MARK: strings

    @Test func escapes() throws {
        let doc = try parse(#"["\"\\\/\b\f\n\r\t", "\u0000\u001f\u00e9\u20AC\uFFFF", "\ud83d\ude00x\uD834\uDD1E", "a\u0022b"]"#)
        let s = doc.root.elements.map { $0.string! }
        #expect(s[0] == "\"\\/\u{08}\u{0C}\n\r\t")
        #expect(s[1] == "\u{0}\u{1F}é€\u{FFFF}")
        #expect(s[2] == "😀x𝄞")
        #expect(s[3] == "a\"b")
        #expect(doc.root[index: 2]!.stringHasEscapes)
        #expect(doc.root[index: 2]!.stringEquals("😀x𝄞"))
        #expect(!doc.root[index: 2]!.stringEquals("😀x"))
        #expect(doc.root[index: 3]!.stringEquals("a\"b"))
    }

    @Test func rawUTF8Strings() throws {
        let samples = ["é", "日本語", "😀", "a€b", "\u{7F}", "\u{10FFFF}", "\u{FFFD}", "ß\u{800}\u{FFFF}\u{10000}"]
        for s in samples {
            let doc = try parse("\"\(s)\"")
            #expect(doc.root.string == s)
            #expect(doc.root.stringEquals(s))
            #expect(!doc.root.stringHasEscapes)
        }
    }

    @Test func stringEqualsIsByteExact() throws {
        let doc = try parse(#"["caf\u00e9", "café", "cafe\u0301", 5]"#)
        let e = Array(doc.root.elements)
        #expect(e[0].stringEquals("café") && e[1].stringEquals("café"))
        #expect(!e[2].stringEquals("café"))            // no Unicode normalisation
        #expect(e[2].stringEquals("cafe\u{301}"))
        let staticText: StaticString = "café"
        #expect(e[0].stringEquals(staticText) && e[1].stringEquals(staticText))
        #expect(!e[3].stringEquals("5"))
        #expect(e[1].stringEquals(utf8: [0x63, 0x61, 0x66, 0xC3, 0xA9]))
        #expect(!e[1].stringEquals(""))
        #expect(try parse("\"\"").root.stringEquals(""))
    }

    /// Special bytes at every position of strings longer than one 8-byte word,
    /// to exercise the word-at-a-time scanner and its tail loop.
    @Test func specialBytesAtEveryPosition() throws {
        for len in 1..<34 {
            for pos in 0..<len {
                var base = Array(repeating: UInt8(ascii: "a"), count: len)
                // escaped quote
                base[pos] = UInt8(ascii: "\"")
                var json: [UInt8] = [0x22]
                for b in base { if b == 0x22 { json += [0x5C, 0x22] } else { json.append(b) } }
                json.append(0x22)
                let d1 = try JSONDocument(bytes: json)
                #expect(Array(d1.root.string!.utf8) == base, "quote len \(len) pos \(pos)")
                // 2-, 3-, 4-byte UTF-8 sequences
                for scalar in ["é", "€", "😀"] {
                    var s = Array(repeating: UInt8(ascii: "b"), count: len)
                    s.replaceSubrange(pos...pos, with: Array(scalar.utf8))
                    let d = try JSONDocument(bytes: [0x22] + s + [0x22])
                    #expect(Array(d.root.string!.utf8) == s, "utf8 len \(len) pos \(pos)")
                }
                // raw control character is rejected at its exact offset
                var ctl = Array(repeating: UInt8(ascii: "c"), count: len)
                ctl[pos] = 0x1F
                #expect(parseError([0x22] + ctl + [0x22]) == JSONParseError(.controlCharacterInString, at: pos + 1))
                // invalid UTF-8 (stray continuation byte, 0xFF, 0xC0) at its exact offset
                for bad: UInt8 in [0x80, 0xFF, 0xC0] {
                    var u = Array(repeating: UInt8(ascii: "d"), count: len)
                    u[pos] = bad
                    #expect(parseError([0x22] + u + [0x22]) == JSONParseError(.invalidUTF8, at: pos + 1),
                            "bad \(bad) len \(len) pos \(pos)")
                }
                // DEL (0x7F) is allowed raw
                var del = Array(repeating: UInt8(ascii: "e"), count: len)
                del[pos] = 0x7F
                #expect(parseError([0x22] + del + [0x22]) == nil)
            }
        }
    }

    @Test func utf8Boundaries() throws {
        func ok(_ b: [UInt8]) -> Bool { parseError([0x22] + b + [0x22]) == nil }
        #expect(ok([0xC2, 0x80]) && ok([0xDF, 0xBF]))
        #expect(!ok([0xC1, 0xBF]) && !ok([0xC0, 0x80]))                  // overlong 2-byte
        #expect(ok([0xE0, 0xA0, 0x80]) && !ok([0xE0, 0x9F, 0xBF]))       // overlong 3-byte
        #expect(ok([0xED, 0x9F, 0xBF]) && !ok([0xED, 0xA0, 0x80]))       // UTF-8-encoded surrogates
        #expect(!ok([0xED, 0xBF, 0xBF]))
        #expect(ok([0xEE, 0x80, 0x80]) && ok([0xEF, 0xBF, 0xBF]))
        #expect(ok([0xF0, 0x90, 0x80, 0x80]) && !ok([0xF0, 0x8F, 0xBF, 0xBF]))  // overlong 4-byte
        #expect(ok([0xF4, 0x8F, 0xBF, 0xBF]) && !ok([0xF4, 0x90, 0x80, 0x80]))  // > U+10FFFF
        #expect(!ok([0xF5, 0x80, 0x80, 0x80]) && !ok([0xF8, 0x88, 0x80, 0x80, 0x80]))
        #expect(!ok([0xE2, 0x82]) && !ok([0xE2, 0x28, 0xA1]) && !ok([0xE2, 0x82, 0x28]))
        #expect(!ok([0xF0, 0x9F, 0x98]) && !ok([0xF0, 0x9F, 0x98, 0x28]))
        // truncated at end of input
        #expect(parseError([0x22, 0xE2, 0x82]) == JSONParseError(.unterminatedString, at: 3))
        #expect(parseError([0x22, 0xE2, 0x28]) == JSONParseError(.invalidUTF8, at: 1))
        // non-ASCII outside strings
        #expect(parseError([0xC3, 0xA9]) == JSONParseError(.unexpectedByte(0xC3), at: 0))
    }

    @Test func surrogateEscapes() throws {
        #expect(try parse(#""\uD800\uDC00""#).root.string == "\u{10000}")
        #expect(try parse(#""\uDBFF\uDFFF""#).root.string == "\u{10FFFF}")
        #expect(try parse(#""\ud83d\ude00""#).root.stringEquals("😀"))
        #expect(parseError(#""\uD800""#) == JSONParseError(.loneSurrogate, at: 1))
        #expect(parseError(#"["ab\uDC00"]"#) == JSONParseError(.loneSurrogate, at: 4))
        #expect(parseError(#""\uD800\uD800""#) == JSONParseError(.loneSurrogate, at: 1))
        #expect(parseError(#""\uD800\u0041""#) == JSONParseError(.loneSurrogate, at: 1))
        #expect(parseError(#""\uD800\n""#) == JSONParseError(.loneSurrogate, at: 1))
        #expect(parseError(#""\uD800x""#) == JSONParseError(.loneSurrogate, at: 1))
        #expect(parseError(#""\uD800\uDZ00""#) == JSONParseError(.invalidUnicodeEscape, at: 7))
        #expect(parseError(#""\uD800\uDC"#) == JSONParseError(.unterminatedString, at: 11))
        #expect(parseError(#""\uD800\"#) == JSONParseError(.unterminatedString, at: 8))
        #expect(parseError(#""\uD800"#) == JSONParseError(.unterminatedString, at: 7))
    }

    // MARK: numbers

    @Test func integerExactness() throws {
        func num(_ s: String) throws -> JSONValue { try parse(s).root }
        #expect(try num("9223372036854775807").int64 == Int64.max)
        #expect(try num("-9223372036854775808").int64 == Int64.min)
        #expect(try num("9223372036854775808").int64 == nil)
        #expect(try num("9223372036854775808").double == 9223372036854775808.0)
        #expect(try num("-9223372036854775809").int64 == nil)
        #expect(try num("-9223372036854775807").int64 == -Int64.max)
        #expect(try num("-1").int64 == -1)
        #expect(try num("18446744073709551616").int64 == nil)
        #expect(try num("99999999999999999999").int64 == nil)  // 20 digits, wraps UInt64 if unchecked
        #expect(try num("12345678901234567890123").double == 1.2345678901234568e22)
        #expect(try num("9007199254740993").int64 == 9007199254740993)  // not representable as Double
        #expect(try num("9007199254740993").double == 9007199254740992)
        #expect(try num("0").int64 == 0)
        #expect(try num("-0").int64 == 0)
        #expect(try num("-0").double?.sign == .minus)
        #expect(try num("-0.0").double?.sign == .minus)
        #expect(try num("1.0").int64 == nil)
        #expect(try num("1e2").int64 == nil)
        #expect(try num("1e2").double == 100)
        #expect(try num("1.0").isIntegerLiteral == false)
        #expect(try num("-12").isIntegerLiteral)
        #expect(try num("-12").int == -12)
    }

    @Test func doubleValues() throws {
        let cases: [(String, Double)] = [
            ("0.1", 0.1), ("-2.5", -2.5), ("1E3", 1000), ("1e-3", 0.001), ("12.5e+1", 125),
            ("1.7976931348623157e308", .greatestFiniteMagnitude),
            ("5e-324", .leastNonzeroMagnitude),
            ("2.2250738585072014e-308", .leastNormalMagnitude),
            ("1e309", .infinity), ("-1e309", -.infinity), ("1e-400", 0),
            ("0.30000000000000004", 0.30000000000000004),
            ("123456789012345678", 123456789012345678.0),
            ("0.000000000000000000000000000001", 1e-30),
            ("4.9406564584124654e-324", .leastNonzeroMagnitude),
            ("9007199254740993.0", 9007199254740992),  // ties-to-even, beyond fast path
            ("0e99999999999999999999", 0),
        ]
        for (s, expected) in cases {
            #expect(try parse(s).root.double == expected, "\(s)")
        }
    }

    /// The fast (Clinger) path and the fallback must agree with the standard
    /// library's correctly rounded parser on random decimal numbers.
    @Test func doublesMatchStandardLibrary() throws {
        var rng = JSONTestRNG(seed: 42)
        for _ in 0..<20_000 {
            var s = Bool.random(using: &rng) ? "-" : ""
            let intDigits = Int.random(in: 1...20, using: &rng)
            s += String(Int.random(in: 1...9, using: &rng))
            for _ in 1..<intDigits { s += String(Int.random(in: 0...9, using: &rng)) }
            if Bool.random(using: &rng) {
                s += "."
                for _ in 0..<Int.random(in: 1...20, using: &rng) { s += String(Int.random(in: 0...9, using: &rng)) }
            }
            if Int.random(in: 0..<3, using: &rng) == 0 {
                s += ["e", "E"].randomElement(using: &rng)! + ["", "+", "-"].randomElement(using: &rng)!
                s += String(Int.random(in: 0...330, using: &rng))
            }
            let parsed = try parse(s).root.double!
            let reference = Double(s)!
            #expect(parsed.bitPattern == reference.bitPattern, "\(s)")
        }
    }

    // MARK: depth

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(parseError(ok) == nil)
        #expect(parseError(deep) == JSONParseError(.tooDeep(limit: 64), at: 64))
        // objects count too
        let objects = String(repeating: #"{"a":"#, count: 64) + "1" + String(repeating: "}", count: 64)
        #expect(parseError(objects) == nil)
        let objects65 = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(parseError(objects65) == JSONParseError(.tooDeep(limit: 64), at: 64 * 5))
        // depth is the nesting level, not the number of containers
        let wide = "[" + Array(repeating: "[[]]", count: 1000).joined(separator: ",") + "]"
        #expect(parseError(wide, maxDepth: 3) == nil)
        #expect(parseError(wide, maxDepth: 2) == JSONParseError(.tooDeep(limit: 2), at: 2))
        // custom limits
        #expect(parseError("[]", maxDepth: 0) == JSONParseError(.tooDeep(limit: 0), at: 0))
        #expect(parseError("1", maxDepth: 0) == nil)
        #expect(parseError("[[1]]", maxDepth: 2) == nil)
        #expect(parseError("[[{}]]", maxDepth: 2) == JSONParseError(.tooDeep(limit: 2), at: 2))
        let deepValue = try parse(ok).root
        var v = deepValue
        for _ in 0..<63 { v = v[index: 0]! }
        #expect(v.kind == .array && v.count == 0)
    }

    // MARK: errors

    @Test func errorReasonsAndOffsets() {
        let cases: [(String, JSONParseError.Reason, Int)] = [
            ("", .emptyInput, 0),
            ("  \n ", .emptyInput, 4),
            ("[1,2", .unexpectedEnd, 4),
            ("[1,2 ", .unexpectedEnd, 5),
            ("[", .unexpectedEnd, 1),
            ("{", .unexpectedEnd, 1),
            (#"{"a""#, .unexpectedEnd, 4),
            (#"{"a":"#, .unexpectedEnd, 5),
            ("[1,]", .unexpectedByte(UInt8(ascii: "]")), 3),
            ("[1 2]", .unexpectedByte(UInt8(ascii: "2")), 3),
            (#"{"a" 1}"#, .unexpectedByte(UInt8(ascii: "1")), 5),
            (#"{"a":1,}"#, .unexpectedByte(UInt8(ascii: "}")), 7),
            ("{1:1}", .unexpectedByte(UInt8(ascii: "1")), 1),
            (#"{"a":1]"#, .unexpectedByte(UInt8(ascii: "]")), 6),
            (#"["a"}"#, .unexpectedByte(UInt8(ascii: "}")), 4),
            ("\"abc", .unterminatedString, 4),
            ("[\"a\u{01}\"]", .controlCharacterInString, 3),
            ("\"a\tb\"", .controlCharacterInString, 2),
            ("01", .invalidNumber, 1),
            ("-01", .invalidNumber, 2),
            ("1.", .invalidNumber, 2),
            ("1.e5", .invalidNumber, 2),
            ("-", .invalidNumber, 1),
            ("-a", .invalidNumber, 1),
            ("1e", .invalidNumber, 2),
            ("1e+", .invalidNumber, 3),
            ("[.5]", .unexpectedByte(UInt8(ascii: ".")), 1),
            ("+1", .unexpectedByte(UInt8(ascii: "+")), 0),
            ("1 2", .trailingContent, 2),
            (#"{"a":1}}"#, .trailingContent, 7),
            ("[tru]", .unexpectedByte(UInt8(ascii: "]")), 4),
            ("nul", .unexpectedEnd, 3),
            ("nulL", .unexpectedByte(UInt8(ascii: "L")), 3),
            ("fals", .unexpectedEnd, 4),
            ("falsy", .unexpectedByte(UInt8(ascii: "y")), 4),
            ("truex", .trailingContent, 4),
            ("NaN", .unexpectedByte(UInt8(ascii: "N")), 0),
            (#""\x""#, .invalidEscape, 1),
            (#""\u12G4""#, .invalidUnicodeEscape, 1),
            (#""\u12""#, .invalidUnicodeEscape, 1),
            (#""\u12"#, .unterminatedString, 5),
            ("\"\\", .unterminatedString, 2),
            ("[1]\u{0}", .trailingContent, 3),
            ("/* c */ 1", .unexpectedByte(UInt8(ascii: "/")), 0),
            ("\u{FEFF}{}", .unexpectedByte(0xEF), 0),
            ("\u{0C}1", .unexpectedByte(0x0C), 0),  // form feed is not JSON whitespace
        ]
        for (input, reason, offset) in cases {
            #expect(parseError(input) == JSONParseError(reason, at: offset), "input \(input.debugDescription)")
        }
    }

    @Test func errorDescriptions() {
        #expect(parseError("\"abc")?.description == "invalid JSON at byte 4: unterminated string")
        #expect(parseError("[1,]")?.description == "invalid JSON at byte 3: unexpected character ']'")
        #expect(parseError([0x22, 0x01, 0x22])?.description == "invalid JSON at byte 1: unescaped control character in string")
        #expect(parseError("[ x")?.description == "invalid JSON at byte 2: unexpected character 'x'")
        #expect(parseError([0x20, 0x00])?.description == "invalid JSON at byte 1: unexpected byte 0x00")
        #expect(parseError(String(repeating: "[", count: 70))?.description == "invalid JSON at byte 64: nesting deeper than 64 levels")
    }

    @Test func whitespaceEverywhere() throws {
        let doc = try parse(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ } \t\r\n, [ ] ] \t\r\n} \t\r\n")
        #expect(doc.root["a"]?.count == 3)
        #expect(doc.root["a"]?[index: 1]?.kind == .object)
        #expect(text(doc.root.rawBytes).hasPrefix("{") && text(doc.root.rawBytes).hasSuffix("}"))
    }

    // MARK: differential fuzzing against a slow reference validator

    @Test func mutationFuzzAgainstReference() throws {
        let seeds: [String] = [
            #"{"type":"track","event":"Order Completed","userId":"u_123","anonymousId":null,"properties":{"revenue":12.5,"items":[{"sku":"a","qty":2},{"sku":"b","qty":-1e3}],"ok":true,"note":"caf\u00e9 \ud83d\ude00 \" \\ /"},"context":{"device":{"id":"dev-1"}}}"#,
            #"[1, -0.5e-3, "x\n", [], {}, [[{"a":[false]}]], "日本語😀"]"#,
            #""abcdefghijklmnopqrstuvwxyz0123456789""#,
        ]
        var rng = JSONTestRNG(seed: 7)
        let alphabet: [UInt8] = Array(#"{}[],:"\/ubfnrtu0123456789+-.eE aZ"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xFF]
        var accepted = 0, rejected = 0
        for seed in seeds {
            let base = Array(seed.utf8)
            #expect(JSONReferenceValidator.validate(base))
            for _ in 0..<4000 {
                var b = base
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let pos = Int.random(in: 0..<b.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: b[pos] = alphabet.randomElement(using: &rng)!
                    case 1: b.remove(at: pos)
                    default: b.insert(alphabet.randomElement(using: &rng)!, at: pos)
                    }
                    if b.isEmpty { b = [0x31] }
                }
                let expected = JSONReferenceValidator.validate(b)
                let error = parseError(b)
                #expect((error == nil) == expected, "input \(String(decoding: b, as: UTF8.self).debugDescription) bytes \(b): parser error \(String(describing: error))")
                if let error {
                    rejected += 1
                    #expect(error.offset >= 0 && error.offset <= b.count)
                } else {
                    accepted += 1
                }
            }
        }
        // Make sure the fuzzer explores both outcomes.
        #expect(accepted > 100 && rejected > 100)
    }
}

/// Deliberately simple recursive-descent validator used as a differential oracle.
enum JSONReferenceValidator {
    static func validate(_ b: [UInt8], maxDepth: Int = 64) -> Bool {
        var i = 0
        func ws() { while i < b.count, [0x20, 0x09, 0x0A, 0x0D].contains(b[i]) { i += 1 } }
        func lit(_ s: String) -> Bool {
            let u = Array(s.utf8)
            guard i + u.count <= b.count, Array(b[i..<i + u.count]) == u else { return false }
            i += u.count
            return true
        }
        func digits() -> Bool {
            let s = i
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
            return i > s
        }
        func number() -> Bool {
            if b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count else { return false }
            if b[i] == UInt8(ascii: "0") { i += 1 } else if !digits() { return false }
            if i < b.count, b[i] == UInt8(ascii: ".") { i += 1; if !digits() { return false } }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                if !digits() { return false }
            }
            return true
        }
        func hex4() -> UInt16? {
            guard i + 4 <= b.count, let v = UInt16(String(decoding: b[i..<i + 4], as: UTF8.self), radix: 16),
                  b[i..<i + 4].allSatisfy({ UInt8(ascii: "+") != $0 && UInt8(ascii: "-") != $0 }) else { return nil }
            i += 4
            return v
        }
        func string() -> Bool {
            i += 1
            var raw: [UInt8] = []
            var units: [UInt16] = []
            func flushRaw() -> Bool {
                guard let s = String(validating: raw, as: UTF8.self) else { return false }
                units += Array(s.utf16)
                raw = []
                return true
            }
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    guard flushRaw() else { return false }
                    // Every surrogate must be paired.
                    var decoder = UTF16()
                    var it = units.makeIterator()
                    while true {
                        switch decoder.decode(&it) {
                        case .scalarValue: continue
                        case .emptyInput: return true
                        case .error: return false
                        }
                    }
                }
                if c < 0x20 { return false }
                if c == UInt8(ascii: "\\") {
                    guard flushRaw(), i + 1 < b.count else { return false }
                    let e = b[i + 1]
                    i += 2
                    switch e {
                    case UInt8(ascii: "\""): units.append(0x22)
                    case UInt8(ascii: "\\"): units.append(0x5C)
                    case UInt8(ascii: "/"): units.append(0x2F)
                    case UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"): units.append(0x20)
                    case UInt8(ascii: "u"):
                        guard let v = hex4() else { return false }
                        units.append(v)
                    default: return false
                    }
                    continue
                }
                raw.append(c)
                i += 1
            }
            return false
        }
        func value(_ depth: Int) -> Bool {
            ws()
            guard i < b.count else { return false }
            switch b[i] {
            case UInt8(ascii: "{"):
                guard depth < maxDepth else { return false }
                i += 1; ws()
                if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return true }
                while true {
                    ws()
                    guard i < b.count, b[i] == UInt8(ascii: "\""), string() else { return false }
                    ws()
                    guard i < b.count, b[i] == UInt8(ascii: ":") else { return false }
                    i += 1
                    guard value(depth + 1) else { return false }
                    ws()
                    guard i < b.count else { return false }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "}") { i += 1; return true }
                    return false
                }
            case UInt8(ascii: "["):
                guard depth < maxDepth else { return false }
                i += 1; ws()
                if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return true }
                while true {
                    guard value(depth + 1) else { return false }
                    ws()
                    guard i < b.count else { return false }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "]") { i += 1; return true }
                    return false
                }
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return lit("true")
            case UInt8(ascii: "f"): return lit("false")
            case UInt8(ascii: "n"): return lit("null")
            default: return number()
            }
        }
        guard value(0) else { return false }
        ws()
        return i == b.count
    }
}
