import Foundation
import Testing
@testable import JourneyCore

/// Runs the parser over JSONTestSuite (https://github.com/nst/JSONTestSuite),
/// expected at `<repo>/../shared/testdata/JSONTestSuite/test_parsing`.
@Suite("JSONTestSuite")
struct JSONTestSuiteTests {
    static let relativeSuitePath = "shared/testdata/JSONTestSuite/test_parsing"

    /// Every i_ (implementation-defined) file and our decision: nil = accepted,
    /// otherwise the rejection reason. Mirrored in docs/JSON.md.
    static let implementationDefined: [String: JSONParseError.Reason?] = [
        // Numbers: the grammar is valid, magnitude is not limited. Accepted;
        // `double` overflows to ±infinity / underflows to 0, `int64` is nil.
        "i_number_double_huge_neg_exp.json": nil,
        "i_number_huge_exp.json": nil,
        "i_number_neg_int_huge_exp.json": nil,
        "i_number_pos_double_huge_exp.json": nil,
        "i_number_real_neg_overflow.json": nil,
        "i_number_real_pos_overflow.json": nil,
        "i_number_real_underflow.json": nil,
        "i_number_too_big_neg_int.json": nil,
        "i_number_too_big_pos_int.json": nil,
        "i_number_very_big_negative_int.json": nil,
        // Unpaired surrogates in \u escapes: rejected (could not become a Swift String losslessly).
        "i_object_key_lone_2nd_surrogate.json": .loneSurrogate,
        "i_string_1st_surrogate_but_2nd_missing.json": .loneSurrogate,
        "i_string_1st_valid_surrogate_2nd_invalid.json": .loneSurrogate,
        "i_string_incomplete_surrogate_and_escape_valid.json": .loneSurrogate,
        "i_string_incomplete_surrogate_pair.json": .loneSurrogate,
        "i_string_incomplete_surrogates_escape_valid.json": .loneSurrogate,
        "i_string_invalid_lonely_surrogate.json": .loneSurrogate,
        "i_string_invalid_surrogate.json": .loneSurrogate,
        "i_string_inverted_surrogates_U+1D11E.json": .loneSurrogate,
        "i_string_lone_second_surrogate.json": .loneSurrogate,
        // Ill-formed UTF-8 inside strings: rejected.
        "i_string_UTF-8_invalid_sequence.json": .invalidUTF8,
        "i_string_UTF8_surrogate_U+D800.json": .invalidUTF8,
        "i_string_invalid_utf-8.json": .invalidUTF8,
        "i_string_iso_latin_1.json": .invalidUTF8,
        "i_string_lone_utf8_continuation_byte.json": .invalidUTF8,
        "i_string_not_in_unicode_range.json": .invalidUTF8,
        "i_string_overlong_sequence_2_bytes.json": .invalidUTF8,
        "i_string_overlong_sequence_6_bytes.json": .invalidUTF8,
        "i_string_overlong_sequence_6_bytes_null.json": .invalidUTF8,
        "i_string_truncated-utf-8.json": .invalidUTF8,
        // Only UTF-8 input is supported; UTF-16 and byte-order marks are rejected.
        "i_string_UTF-16LE_with_BOM.json": .unexpectedByte(0xFF),
        "i_string_utf16BE_no_BOM.json": .unexpectedByte(0x00),
        "i_string_utf16LE_no_BOM.json": .unexpectedByte(0x00),
        "i_structure_UTF-8_BOM_empty_object.json": .unexpectedByte(0xEF),
        // Nesting beyond the default limit of 64.
        "i_structure_500_nested_arrays.json": .tooDeep(limit: 64),
    ]

    // MARK: locating the suite

    /// Finds the test_parsing directory from this file's location: walks up every
    /// ancestor of `#filePath` (as given and with symlinks resolved) looking for
    /// `shared/testdata/...` — which covers `<repo>/../shared/...` — and also
    /// the repo root (directory holding Package.swift) + `../shared/...`.
    /// `JSON_TEST_SUITE_DIR` overrides.
    static func locateSuite(filePath: String = #filePath) -> URL? {
        let fm = FileManager.default
        func isDir(_ url: URL) -> Bool {
            var dir: ObjCBool = false
            return fm.fileExists(atPath: url.path, isDirectory: &dir) && dir.boolValue
        }
        if let env = ProcessInfo.processInfo.environment["JSON_TEST_SUITE_DIR"] {
            let url = URL(fileURLWithPath: env)
            if isDir(url) { return url }
        }
        let given = URL(fileURLWithPath: filePath)
        for start in [given, given.resolvingSymlinksInPath()] {
            var dir = start.deletingLastPathComponent()
            while true {
                if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                    let candidate = dir.deletingLastPathComponent().appendingPathComponent(relativeSuitePath)
                    if isDir(candidate) { return candidate }
                }
                let sibling = dir.appendingPathComponent(relativeSuitePath)
                if isDir(sibling) { return sibling }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        return nil
    }

    struct Case {
        let name: String
        let bytes: [UInt8]
    }

    /// All files whose name starts with `prefix`; records an issue (never passes
    /// silently) if the suite cannot be found or read.
    static func cases(prefix: String) throws -> [Case] {
        guard let dir = locateSuite() else {
            Issue.record("JSONTestSuite not found: looked for \(relativeSuitePath) above \(#filePath)")
            return []
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
            .sorted()
        return try names.map { name in
            Case(name: name, bytes: Array(try Data(contentsOf: dir.appendingPathComponent(name))))
        }
    }

    // MARK: tests

    @Test func suiteIsPresentAndComplete() throws {
        let y = try Self.cases(prefix: "y_"), n = try Self.cases(prefix: "n_"), i = try Self.cases(prefix: "i_")
        // Pinned copy of the suite: 95 + 188 + 35 = 318 files.
        #expect(y.count == 95)
        #expect(n.count == 188)
        #expect(i.count == 35)
    }

    @Test func acceptsEveryYFile() throws {
        let cases = try Self.cases(prefix: "y_")
        #expect(!cases.isEmpty)
        for c in cases {
            do {
                let doc = try JSONDocument(bytes: c.bytes)
                // The root's raw bytes are the input minus surrounding whitespace.
                #expect(Array(doc.root.rawBytes) == trimmed(c.bytes), "\(c.name): root rawBytes")
                // Every value decodes, and re-serialising through JSONWriter gives an equal tree.
                var writer = JSONWriter()
                JSONTreeTesting.write(doc.root, to: &writer)
                let again = try JSONDocument(bytes: writer.bytes)
                #expect(JSONTreeTesting.equal(doc.root, again.root), "\(c.name): writer round-trip differs: \(writer.string)")
            } catch {
                Issue.record("\(c.name) rejected: \(error)")
            }
        }
    }

    @Test func rejectsEveryNFile() throws {
        let cases = try Self.cases(prefix: "n_")
        #expect(!cases.isEmpty)
        for c in cases {
            do {
                _ = try JSONDocument(bytes: c.bytes)
                Issue.record("\(c.name) accepted but must be rejected")
            } catch {
                #expect(error.offset >= 0 && error.offset <= c.bytes.count, "\(c.name): offset \(error.offset) out of range")
            }
        }
    }

    /// `JSONLines` over every file of the suite laid side by side in one buffer (each file one
    /// line, between bytes that would break a neighbour that overran its range) decides each one
    /// exactly as `JSONDocument` does alone: same error and offset, or the same tree.
    @Test func linesSharingOneBufferAreEachJudgedAlone() throws {
        let cases = try Self.cases(prefix: "y_") + Self.cases(prefix: "n_") + Self.cases(prefix: "i_")
        #expect(cases.count > 300)
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        for c in cases {
            buffer.append(contentsOf: Array("]}\"x".utf8))
            ranges.append(buffer.count..<(buffer.count + c.bytes.count))
            buffer.append(contentsOf: c.bytes)
        }
        buffer.append(contentsOf: Array("]}".utf8))
        let lines = JSONLines(bytes: buffer, lines: ranges)
        #expect(lines.count == cases.count)
        for (index, c) in cases.enumerated() {
            let alone = Result { () throws(JSONParseError) in try JSONDocument(bytes: c.bytes) }
            switch (lines[index], alone) {
            case (.success(let value), .success(let document)):
                #expect(Array(value.rawBytes) == Array(document.root.rawBytes), "\(c.name): raw bytes")
                #expect(JSONTreeTesting.equal(value, document.root), "\(c.name): tree differs")
            case (.failure(let error), .failure(let aloneError)):
                #expect(error == aloneError, "\(c.name)")
            case (let inLines, let byItself):
                Issue.record("\(c.name): \(inLines) in lines, \(byItself) alone")
            }
        }
    }

    @Test func implementationDefinedTableCoversEveryIFile() throws {
        let present = Set(try Self.cases(prefix: "i_").map(\.name))
        #expect(!present.isEmpty)
        let table = Set(Self.implementationDefined.keys)
        for missing in present.subtracting(table).sorted() {
            Issue.record("i_ file without a decision in the table: \(missing)")
        }
        for stale in table.subtracting(present).sorted() {
            Issue.record("table entry for an i_ file that does not exist: \(stale)")
        }
    }

    @Test func implementationDefinedDecisions() throws {
        let cases = try Self.cases(prefix: "i_")
        #expect(!cases.isEmpty)
        for c in cases {
            guard let expected = Self.implementationDefined[c.name] else { continue }  // reported above
            do {
                let doc = try JSONDocument(bytes: c.bytes)
                if let reason = expected {
                    Issue.record("\(c.name) accepted, expected rejection with \(reason)")
                } else {
                    #expect(doc.root.count == 1, "\(c.name)")
                }
            } catch {
                if let reason = expected {
                    #expect(error.reason == reason, "\(c.name): got \(error)")
                } else {
                    Issue.record("\(c.name) rejected (\(error)) but should be accepted")
                }
            }
        }
    }

    @Test func hugeNumbersFromIFiles() throws {
        func first(_ name: String) throws -> JSONValue? {
            guard let c = try Self.cases(prefix: name).first else {
                Issue.record("missing \(name)")
                return nil
            }
            return try JSONDocument(bytes: c.bytes).root[index: 0]
        }
        #expect(try first("i_number_huge_exp")?.double == .infinity)
        #expect(try first("i_number_neg_int_huge_exp")?.double == -.infinity)
        #expect(try first("i_number_pos_double_huge_exp")?.double == .infinity)
        #expect(try first("i_number_real_underflow")?.double == 0)
        #expect(try first("i_number_double_huge_neg_exp")?.double == 0)
        #expect(try first("i_number_real_pos_overflow")?.double == .infinity)
        #expect(try first("i_number_real_neg_overflow")?.double == -.infinity)
        let veryBig = try first("i_number_very_big_negative_int")
        #expect(veryBig?.int64 == nil)
        #expect(veryBig?.double?.isFinite == true && (veryBig?.double ?? 0) < -1e40)
        let big = try first("i_number_too_big_pos_int")
        #expect(big?.int64 == nil)
        #expect(big?.double == 1e20)
        #expect(big?.isIntegerLiteral == true)
        let neg = try first("i_number_too_big_neg_int")
        #expect(neg?.int64 == nil)
        #expect(neg?.double == Double("-123123123123123123123123123123"))
    }

    func trimmed(_ b: [UInt8]) -> [UInt8] {
        let ws: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        var s = 0, e = b.count
        while s < e && ws.contains(b[s]) { s += 1 }
        while e > s && ws.contains(b[e - 1]) { e -= 1 }
        return Array(b[s..<e])
    }
}

/// Structural helpers shared by the JSON tests.
enum JSONTreeTesting {
    /// Re-serialises `v` with JSONWriter from decoded values (strings decoded,
    /// numbers via int64/raw text) — exercises string decoding and writer escaping.
    static func write(_ v: JSONValue, to w: inout JSONWriter) {
        switch v.kind {
        case .null: w.null()
        case .bool: w.bool(v.bool!)
        case .number:
            if let i = v.int64 { w.int64(i) } else { w.raw(v.rawBytes) }
        case .string: w.string(v.string!)
        case .array:
            w.beginArray()
            for e in v.elements { write(e, to: &w) }
            w.endArray()
        case .object:
            w.beginObject()
            for (k, m) in v.members {
                w.key(k)
                write(m, to: &w)
            }
            w.endObject()
        }
    }

    /// Deep equality: strings compared as decoded UTF-8 bytes, numbers by
    /// int64 if both are exact integers else by double (NaN-free), containers in order.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        guard a.kind == b.kind else { return false }
        switch a.kind {
        case .null: return true
        case .bool: return a.bool == b.bool
        case .number:
            if let x = a.int64, let y = b.int64 { return x == y }
            return a.double == b.double
        case .string: return Array(a.string!.utf8) == Array(b.string!.utf8)
        case .array:
            guard a.count == b.count else { return false }
            return zip(a.elements, b.elements).allSatisfy { equal($0, $1) }
        case .object:
            guard a.count == b.count else { return false }
            return zip(a.members, b.members).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && equal($0.value, $1.value) }
        }
    }
}
