import Foundation
import Testing

@testable import JourneyStorage

/// Deterministic pseudo-random bytes (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum GzipFixtures {
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Compressible, text-like bytes (JSON-ish lines with a little variation).
    static func textBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var out: [UInt8] = []
        out.reserveCapacity(count + 64)
        while out.count < count {
            let n = Int.random(in: 0...9999, using: &generator)
            out += Array(#"{"type":"track","event":"Order Completed","userId":"u\#(n)"}"#.utf8)
            out.append(UInt8(ascii: "\n"))
        }
        return Array(out.prefix(count))
    }

    /// "Hello, journeyd!\n" as written by Python's `gzip.compress(data, mtime=0)` (an independent encoder).
    static let pythonGzip: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 243, 72, 205, 201, 201, 215, 81, 200, 202, 47, 45, 202, 75, 173, 76, 81, 228, 2, 0,
        186, 13, 177, 174, 17, 0, 0, 0,
    ]
    /// The same text as Python's `zlib.compress` writes it (zlib format, RFC 1950).
    static let pythonZlib: [UInt8] = [
        120, 156, 243, 72, 205, 201, 201, 215, 81, 200, 202, 47, 45, 202, 75, 173, 76, 81, 228, 2, 0, 55, 50, 5, 220,
    ]
    /// Two gzip members, "a" then "bc", from Python's `gzip.compress(…, mtime=0)`.
    static let pythonTwoMembers: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 75, 4, 0, 67, 190, 183, 232, 1, 0, 0, 0,
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 75, 74, 6, 0, 56, 43, 169, 194, 2, 0, 0, 0,
    ]
    static let pythonText = Array("Hello, journeyd!\n".utf8)

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }

    /// Re-wraps the raw deflate data of one of our gzip members (10-byte header, 8-byte trailer)
    /// as a zlib stream: header 0x78 0x9C, the deflate data, big-endian Adler-32.
    static func zlibStream(of data: [UInt8]) -> [UInt8] {
        let gzip = Gzip.compress(data)
        precondition(gzip[3] == 0, "expected a gzip header without optional fields")
        var out: [UInt8] = [0x78, 0x9C]
        out += gzip[10..<(gzip.count - 8)]
        let checksum = adler32(data)
        out += [UInt8(checksum >> 24), UInt8(truncatingIfNeeded: checksum >> 16), UInt8(truncatingIfNeeded: checksum >> 8), UInt8(truncatingIfNeeded: checksum)]
        return out
    }
}

/// Asserts that `input` is refused as `.invalidData` (not as too large, not accepted).
func expectInvalidGzip(
    _ input: [UInt8], maxOutputBytes: Int = 64 << 20, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let output = try Gzip.decompress(input, maxOutputBytes: maxOutputBytes)
        Issue.record("expected .invalidData, got \(output.count) bytes of output. \(comment?.rawValue ?? "")", sourceLocation: sourceLocation)
    } catch {
        guard case .invalidData(let reason) = error else {
            Issue.record("expected .invalidData, got \(error). \(comment?.rawValue ?? "")", sourceLocation: sourceLocation)
            return
        }
        #expect(!reason.isEmpty, sourceLocation: sourceLocation)
    }
}

@Suite("Gzip")
struct GzipTests {
    static let sizes = [0, 1, 2, 3, 17, 255, 256, 1000, 4095, 4096, 65_535, 65_536, 65_537, 131_072, 200_003, (1 << 20) + 3]

    // MARK: - Round trips

    @Test("random (incompressible) data round-trips", arguments: sizes)
    func roundTripRandom(size: Int) throws {
        let data = GzipFixtures.randomBytes(size, seed: UInt64(size) &+ 1)
        let compressed = Gzip.compress(data)
        #expect(Array(compressed.prefix(3)) == [0x1F, 0x8B, 0x08], "gzip magic and deflate method")
        let back = try Gzip.decompress(compressed, maxOutputBytes: data.count)
        #expect(back == data)
    }

    @Test("compressible text round-trips and actually shrinks", arguments: sizes)
    func roundTripText(size: Int) throws {
        let data = GzipFixtures.textBytes(size, seed: UInt64(size) &+ 7)
        let compressed = Gzip.compress(data)
        if size >= 4096 { #expect(compressed.count < data.count / 4) }
        #expect(try Gzip.decompress(compressed, maxOutputBytes: 1 << 30) == data)
    }

    @Test("every compression level round-trips", arguments: [Int32(0), 1, 6, 9])
    func roundTripLevels(level: Int32) throws {
        let data = GzipFixtures.textBytes(150_000, seed: 3) + GzipFixtures.randomBytes(70_000, seed: 4)
        let compressed = Gzip.compress(data, level: level)
        #expect(try Gzip.decompress(compressed, maxOutputBytes: data.count) == data)
    }

    @Test("empty input compresses to a non-empty member that inflates to nothing")
    func emptyRoundTrip() throws {
        let compressed = Gzip.compress([])
        #expect(compressed.count >= 18, "10-byte header + empty deflate block + 8-byte trailer")
        #expect(try Gzip.decompress(compressed, maxOutputBytes: 0) == [])
        #expect(try Gzip.decompress(compressed, maxOutputBytes: 100) == [])
    }

    @Test("the gzip trailer records CRC-32 and length (little-endian)")
    func trailer() {
        let data = Array("123456789".utf8)  // CRC-32 check value 0xCBF43926
        let compressed = Gzip.compress(data)
        let trailer = Array(compressed.suffix(8))
        #expect(trailer == [0x26, 0x39, 0xF4, 0xCB, 9, 0, 0, 0])
    }

    @Test("a gzip member from another encoder (Python) inflates")
    func foreignGzip() throws {
        #expect(try Gzip.decompress(GzipFixtures.pythonGzip, maxOutputBytes: 1000) == GzipFixtures.pythonText)
    }

    // MARK: - Concatenated members and zlib format

    @Test("concatenated gzip members inflate to the concatenation")
    func concatenatedMembers() throws {
        #expect(try Gzip.decompress(GzipFixtures.pythonTwoMembers, maxOutputBytes: 3) == Array("abc".utf8))

        let parts: [[UInt8]] = [
            GzipFixtures.textBytes(70_000, seed: 11), [], GzipFixtures.randomBytes(1, seed: 12),
            GzipFixtures.randomBytes(100_000, seed: 13), [], [],
        ]
        let body = parts.flatMap { Gzip.compress($0) }
        let expected = parts.flatMap { $0 }
        #expect(try Gzip.decompress(body, maxOutputBytes: expected.count) == expected)
    }

    @Test("many small members")
    func manyMembers() throws {
        var body: [UInt8] = []
        var expected: [UInt8] = []
        for index in 0..<500 {
            let part = Array("event \(index)\n".utf8)
            body += Gzip.compress(part)
            expected += part
        }
        #expect(try Gzip.decompress(body, maxOutputBytes: 1 << 20) == expected)
    }

    @Test("zlib-format (RFC 1950) input inflates too")
    func zlibFormat() throws {
        #expect(try Gzip.decompress(GzipFixtures.pythonZlib, maxOutputBytes: 1000) == GzipFixtures.pythonText)
        for size in [0, 1, 1000, 300_000] {
            let data = GzipFixtures.textBytes(size, seed: UInt64(size))
            let zlib = GzipFixtures.zlibStream(of: data)
            #expect(try Gzip.decompress(zlib, maxOutputBytes: size) == data, "size \(size)")
        }
    }

    @Test("a zlib stream with a wrong Adler-32 is refused")
    func zlibBadChecksum() {
        var zlib = GzipFixtures.pythonZlib
        zlib[zlib.count - 1] ^= 0x01
        expectInvalidGzip(zlib)
    }

    // MARK: - Bad input

    @Test("an empty body is invalid")
    func emptyBody() {
        expectInvalidGzip([])
    }

    @Test("every strict prefix of a gzip member is refused as truncated")
    func truncatedEveryPrefix() {
        let data = GzipFixtures.textBytes(3000, seed: 21) + GzipFixtures.randomBytes(500, seed: 22)
        let compressed = Gzip.compress(data)
        for length in 1..<compressed.count {
            expectInvalidGzip(Array(compressed.prefix(length)), "prefix of \(length) of \(compressed.count) bytes")
        }
        for length in 1..<GzipFixtures.pythonGzip.count {
            expectInvalidGzip(Array(GzipFixtures.pythonGzip.prefix(length)), "python prefix \(length)")
        }
    }

    @Test("a large member cut at several points is refused", arguments: [1, 2, 9, 10, 11, 4096, 65_536, 100_000, 200_007])
    func truncatedLarge(drop: Int) {
        let data = GzipFixtures.randomBytes(200_000, seed: 23)
        let compressed = Gzip.compress(data)
        expectInvalidGzip(Array(compressed.dropLast(drop)))
    }

    @Test("a complete member followed by a truncated one is refused")
    func truncatedSecondMember() {
        let first = Gzip.compress(Array("first".utf8))
        let second = Gzip.compress(GzipFixtures.textBytes(5000, seed: 24))
        for keep in [1, 2, 5, 10, 11, second.count / 2, second.count - 1] {
            expectInvalidGzip(first + second.prefix(keep), "second member cut to \(keep) bytes")
        }
    }

    @Test("garbage is refused as invalid data")
    func garbage() {
        expectInvalidGzip(Array("this is not gzip at all".utf8))
        expectInvalidGzip(Array(#"{"batch":[]}"#.utf8))
        expectInvalidGzip([0x1F, 0x8B, 0x07, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4])  // gzip magic, unknown method
        expectInvalidGzip([0x1F, 0x8C] + Array(repeating: 0, count: 30))  // wrong magic
        expectInvalidGzip([0x00] + GzipFixtures.randomBytes(4096, seed: 31))
        expectInvalidGzip([0xFF] + GzipFixtures.randomBytes(17, seed: 32))
        for seed in UInt64(40)..<UInt64(60) {
            // Header bytes that are neither gzip magic nor a valid zlib header, then noise.
            expectInvalidGzip([0x1F, 0x00] + GzipFixtures.randomBytes(100, seed: seed), "seed \(seed)")
        }
    }

    @Test("a damaged CRC or length in the trailer is refused")
    func damagedTrailer() {
        let good = Gzip.compress(GzipFixtures.textBytes(10_000, seed: 33))
        for offsetFromEnd in 1...8 {
            var bad = good
            bad[bad.count - offsetFromEnd] ^= 0x40
            expectInvalidGzip(bad, "trailer byte -\(offsetFromEnd) flipped")
        }
    }

    @Test("garbage after a complete member is refused, not ignored")
    func trailingGarbage() {
        let member = Gzip.compress(Array("payload".utf8))
        expectInvalidGzip(member + Array("garbage".utf8))
        expectInvalidGzip(member + [0x00])
    }

    // MARK: - Output limit

    @Test("output up to exactly the limit is accepted; one byte over is refused", arguments: [1, 100, 65_535, 65_536, 65_537, 3 * 65_536, 250_001])
    func exactLimit(size: Int) throws {
        let data = GzipFixtures.randomBytes(size, seed: UInt64(size) &* 3)
        let compressed = Gzip.compress(data)
        #expect(try Gzip.decompress(compressed, maxOutputBytes: size) == data)
        #expect(throws: GzipError.outputTooLarge(limit: size - 1)) {
            try Gzip.decompress(compressed, maxOutputBytes: size - 1)
        }
    }

    @Test("the limit applies to the total over concatenated members")
    func limitAcrossMembers() throws {
        let part = GzipFixtures.textBytes(40_000, seed: 5)
        let body = Gzip.compress(part) + Gzip.compress(part) + Gzip.compress(part)
        #expect(try Gzip.decompress(body, maxOutputBytes: 120_000).count == 120_000)
        #expect(throws: GzipError.outputTooLarge(limit: 119_999)) {
            try Gzip.decompress(body, maxOutputBytes: 119_999)
        }
        #expect(throws: GzipError.outputTooLarge(limit: 80_000)) {
            try Gzip.decompress(body, maxOutputBytes: 80_000)
        }
    }

    @Test("a zero limit accepts only an empty payload")
    func zeroLimit() {
        #expect(throws: GzipError.outputTooLarge(limit: 0)) {
            try Gzip.decompress(Gzip.compress([0]), maxOutputBytes: 0)
        }
    }

    @Test("a small bomb is stopped at the limit, before the rest of the input is even read")
    func bombStopsEarly() {
        // 16 MiB of zeros compress to ~16 KB. The garbage after the member would make an
        // implementation that inflates everything first report invalid data instead.
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 16 << 20))
        #expect(bomb.count < 64 << 10)
        let body = bomb + Array("not gzip".utf8)
        #expect(throws: GzipError.outputTooLarge(limit: 1 << 20)) {
            try Gzip.decompress(body, maxOutputBytes: 1 << 20)
        }
    }

    @Test("a 4 GiB bomb is refused without allocating its output")
    func bigBombDoesNotAllocate() throws {
        // 256 members of 16 MiB of zeros: 4 GiB of output from ~4 MB of input.
        let member = Gzip.compress([UInt8](repeating: 0, count: 16 << 20))
        var body: [UInt8] = []
        body.reserveCapacity(member.count * 256)
        for _ in 0..<256 { body += member }
        let before = peakResidentBytes()
        let start = ContinuousClock.now
        #expect(throws: GzipError.outputTooLarge(limit: 4 << 20)) {
            try Gzip.decompress(body, maxOutputBytes: 4 << 20)
        }
        let elapsed = ContinuousClock.now - start
        let grown = peakResidentBytes() - before
        #expect(grown < 256 << 20, "peak memory grew by \(grown) bytes while refusing the bomb")
        #expect(elapsed < .seconds(10), "refusing the bomb took \(elapsed): it should stop at the limit")
    }

    @Test("errors describe themselves")
    func descriptions() {
        #expect(GzipError.outputTooLarge(limit: 512_000).description.contains("512000"))
        #expect(GzipError.invalidData("bad header").description.contains("bad header"))
    }

    private func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024  // Linux reports KiB
    }
}
