import Testing
@testable import JourneyCore

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test func structureAndCommas() {
        var w = JSONWriter()
        w.beginObject()
        w.key("a"); w.int(1)
        w.key("b"); w.beginArray()
        w.int(1); w.string("x"); w.beginObject(); w.endObject(); w.beginArray(); w.endArray(); w.null()
        w.endArray()
        w.key("c"); w.beginObject(); w.key("d"); w.bool(true); w.key("e"); w.bool(false); w.endObject()
        w.key("f"); w.double(1.5)
        w.endObject()
        #expect(w.string == #"{"a":1,"b":[1,"x",{},[],null],"c":{"d":true,"e":false},"f":1.5}"#)
    }

    @Test func emptyAndNestedContainers() {
        var w = JSONWriter(capacity: 0)
        w.beginArray()
        w.beginArray(); w.beginArray(); w.endArray(); w.endArray()
        w.beginObject(); w.key("k"); w.beginArray(); w.endArray(); w.endObject()
        w.endArray()
        #expect(w.string == #"[[[]],{"k":[]}]"#)
    }

    @Test func stringEscaping() {
        var w = JSONWriter()
        w.string("a\"b\\c/d\n\r\t\u{08}\u{0C}\u{0}\u{1F}\u{7F}é😀\u{2028}")
        #expect(w.string == #""a\"b\\c/d\n\r\t\b\f\u0000\u001f"# + "\u{7F}é😀\u{2028}\"")
        // Every control character has an escape the parser decodes back.
        for c in 0..<0x20 {
            var w = JSONWriter()
            let s = String(Unicode.Scalar(UInt8(c)))
            w.string(s)
            #expect(w.bytes.allSatisfy { $0 >= 0x20 }, "control \(c) left raw")
            #expect((try? JSONDocument(bytes: w.bytes))?.root.string == s, "control \(c)")
        }
        var k = JSONWriter()
        k.beginObject(); k.key("q\"k\n"); k.int(1); k.endObject()
        #expect(k.string == #"{"q\"k\n":1}"#)
    }

    @Test func integers() throws {
        let values: [Int] = [0, 1, -1, 9, 10, -10, 99, 100, 123456789, Int.max, Int.min, Int(Int32.max) + 1]
        var w = JSONWriter()
        w.beginArray()
        for v in values { w.int(v) }
        w.uint64(UInt64.max)
        w.int64(Int64.min)
        w.endArray()
        #expect(w.string == "[0,1,-1,9,10,-10,99,100,123456789,9223372036854775807,-9223372036854775808,2147483648,18446744073709551615,-9223372036854775808]")
        let doc = try JSONDocument(bytes: w.bytes)
        #expect(doc.root.elements.prefix(values.count).map { Int($0.int64!) } == values)
    }

    @Test func doubles() throws {
        let values: [Double] = [0, -0.0, 0.1, 1.5, -2.25, 1e-7, 1e16, 1e300, 123456.789,
                                .greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude, 1.0 / 3]
        for v in values {
            var w = JSONWriter()
            w.double(v)
            let parsed = try JSONDocument(bytes: w.bytes).root.double
            #expect(parsed?.bitPattern == v.bitPattern, "\(v) written as \(w.string)")
        }
        var w = JSONWriter()
        w.beginArray(); w.double(.nan); w.double(.infinity); w.double(-.infinity); w.double(2); w.endArray()
        #expect(w.string == "[null,null,null,2.0]")
    }

    @Test func rawAndValueSplicing() throws {
        let doc = try JSONDocument(string: #"{"props": {"a": [1, 2], "b": "x"}, "n": 3}"#)
        var w = JSONWriter()
        w.beginObject()
        w.field("p", doc.root["props"]!)
        w.rawField("r", Array("[true]".utf8))
        w.key("v"); w.raw("{}".utf8)
        w.field("s", "str")
        w.field("i", 5)
        w.field("i64", Int64(-6))
        w.field("d", 0.5)
        w.field("b", true)
        w.field("o", nil as String?)
        w.field("o2", "y" as String?)
        w.nullField("z")
        w.endObject()
        #expect(w.string == #"{"p":{"a": [1, 2], "b": "x"},"r":[true],"v":{},"s":"str","i":5,"i64":-6,"d":0.5,"b":true,"o":null,"o2":"y","z":null}"#)
        #expect(try JSONDocument(bytes: w.bytes).root["p"]?["a"]?.count == 2)
    }

    @Test func resetAndNewline() {
        var w = JSONWriter()
        w.beginObject(); w.field("a", 1); w.endObject()
        w.newline()
        w.beginObject(); w.field("b", 2); w.endObject()
        w.newline()
        #expect(w.string == "{\"a\":1}\n{\"b\":2}\n")
        w.reset()
        #expect(w.bytes.isEmpty)
        w.int(3)
        #expect(w.string == "3")
        var s = JSONWriter()
        s.string(utf8: [0x61, 0x22])
        #expect(s.string == #""a\"""#)
    }

    @Test func staticKeys() {
        var w = JSONWriter()
        w.beginObject()
        let k: StaticString = "st\"atic"
        w.key(k)
        w.int(1)
        w.endObject()
        #expect(w.string == #"{"st\"atic":1}"#)
    }

    /// Short strings are assembled on the stack in one append, longer ones or ones needing escapes
    /// go through the general path: both give the same text at every length around the limit.
    @Test func stringsAroundTheShortStringLimitAreWrittenTheSameWay() throws {
        for length in (JSONWriter.shortString - 2)...(JSONWriter.shortString + 2) {
            for text in [String(repeating: "a", count: length), String(repeating: "a", count: length - 1) + "\""] {
                var w = JSONWriter()
                w.beginArray()
                w.string(text)
                w.string(utf8: Array(text.utf8))
                w.endArray()
                let escaped = text.replacingOccurrences(of: "\"", with: "\\\"")
                #expect(w.string == "[\"\(escaped)\",\"\(escaped)\"]")
                let doc = try JSONDocument(bytes: w.bytes)
                #expect(doc.root.elements.map { $0.string } == [text, text])
            }
        }
    }

    /// Random strings (all scalar classes incl. controls, quotes, backslashes,
    /// surrogate-plane scalars) survive writer → parser unchanged.
    @Test func randomStringsRoundTrip() throws {
        var rng = JSONTestRNG(seed: 99)
        let pools: [ClosedRange<UInt32>] = [0x00...0x1F, 0x20...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        for _ in 0..<2000 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                if Int.random(in: 0..<5, using: &rng) == 0 {
                    s.append(["\"", "\\", "/"].randomElement(using: &rng)!)
                } else {
                    let pool = pools.randomElement(using: &rng)!
                    s.append(Unicode.Scalar(UInt32.random(in: pool, using: &rng))!)
                }
            }
            let str = String(s)
            var w = JSONWriter()
            w.beginObject(); w.key(str); w.string(str); w.endObject()
            let doc = try JSONDocument(bytes: w.bytes)
            let member = try #require(doc.root.members.first)
            #expect(Array(member.key.utf8) == Array(str.utf8))
            #expect(Array(member.value.string!.utf8) == Array(str.utf8))
            #expect(member.value.stringEquals(str))
            #expect(doc.root[str] != nil)
        }
    }

    /// Random trees written by the writer parse back to the same tree.
    @Test func randomTreesRoundTrip() throws {
        indirect enum Node {
            case null, bool(Bool), int(Int), double(Double), string(String), array([Node]), object([(String, Node)])
        }
        var rng = JSONTestRNG(seed: 1234)
        func gen(_ depth: Int) -> Node {
            switch Int.random(in: 0..<(depth > 5 ? 5 : 7), using: &rng) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .int(Int.random(in: Int.min...Int.max, using: &rng) >> Int.random(in: 0...63, using: &rng))
            case 3: return .double(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng)))
            case 4: return .string(String((0..<Int.random(in: 0...12, using: &rng)).map { _ in
                Character(Unicode.Scalar(UInt8.random(in: 0...0x7F, using: &rng))) }))
            case 5: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in gen(depth + 1) })
            default: return .object((0..<Int.random(in: 0...5, using: &rng)).map { k in ("k\(k)", gen(depth + 1)) })
            }
        }
        func write(_ n: Node, _ w: inout JSONWriter) {
            switch n {
            case .null: w.null()
            case .bool(let b): w.bool(b)
            case .int(let i): w.int(i)
            case .double(let d): w.double(d)
            case .string(let s): w.string(s)
            case .array(let a): w.beginArray(); for e in a { write(e, &w) }; w.endArray()
            case .object(let o): w.beginObject(); for (k, v) in o { w.key(k); write(v, &w) }; w.endObject()
            }
        }
        func matches(_ n: Node, _ v: JSONValue) -> Bool {
            switch n {
            case .null: return v.isNull
            case .bool(let b): return v.bool == b
            case .int(let i): return v.int64 == Int64(i)
            case .double(let d): return d.isFinite ? v.double?.bitPattern == d.bitPattern : v.isNull
            case .string(let s): return v.string.map { Array($0.utf8) == Array(s.utf8) } ?? false
            case .array(let a): return v.kind == .array && v.count == a.count && zip(a, v.elements).allSatisfy { matches($0, $1) }
            case .object(let o):
                return v.kind == .object && v.count == o.count
                    && zip(o, v.members).allSatisfy { $0.0 == $1.key && matches($0.1, $1.value) }
                    && o.allSatisfy { pair in v[pair.0].map { matches(pair.1, $0) } ?? false }
            }
        }
        for _ in 0..<500 {
            let tree = gen(0)
            var w = JSONWriter()
            write(tree, &w)
            let doc = try JSONDocument(bytes: w.bytes)
            #expect(matches(tree, doc.root), "\(w.string)")
        }
    }

    @Test func timestampsAreWrittenAsTheirRFC3339Text() {
        let instants: [Int64] = [0, 1, 999, 1_795_400_000_123, -1, -86_400_001, Int64.min, Int64.max, 253_402_300_799_999]
        for millis in instants {
            let t = Timestamp(millisecondsSinceEpoch: millis)
            var w = JSONWriter()
            w.beginArray()
            w.timestamp(t)
            w.string(t.description)
            w.endArray()
            #expect(w.string == "[\"\(t.description)\",\"\(t.description)\"]")
            #expect(t.description.utf8.count == 24)
        }
        #expect(Timestamp(millisecondsSinceEpoch: 1_795_400_000_123).description == "2026-11-23T02:13:20.123Z")
    }
}
