import Crypto
import Foundation
import JourneyCore
import Testing

@testable import JourneyStorage

/// `SnapshotVerifier` (behind `journeyctl snapshot verify`) on snapshots written by the real
/// `SnapshotWriter`, then damaged in the ways that matter: a flipped byte, a truncated file, a
/// wrong count, a row missing a field, stray files, loose permissions.
@Suite struct SnapshotVerifierTests {
    /// 2026-01-01T00:00:00Z in milliseconds.
    static let base: Int64 = 20_454 * 86_400_000
    static let web = SourceInfo(name: "website", channel: "web")
    static let app = SourceInfo(name: "ios-app", channel: "mobile")
    static let callCentre = SourceInfo(name: "call-centre", channel: "call_center")

    static func event(
        _ id: String, at offset: Int64, source: SourceInfo = web, type: EventType = .track, name: String? = "Product Viewed",
        ids: [Identifier], phase: Phase? = nil, properties: String? = nil, traits: [(String, String)] = []
    ) -> NormalisedEvent {
        NormalisedEvent(
            messageID: id, source: source.name, channel: source.channel, type: type, name: name,
            timestamp: Timestamp(millisecondsSinceEpoch: base + offset), receivedAt: Timestamp(millisecondsSinceEpoch: base + offset + 7),
            identifiers: ids, phase: phase, properties: properties.map { Array($0.utf8)[...] } ?? [],
            traits: traits.map { TraitValue(key: $0.0, json: Array($0.1.utf8)) })
    }

    static func user(_ value: String) -> Identifier { Identifier(type: .userID, value: value) }
    static func anon(_ value: String) -> Identifier { Identifier(type: .anonymousID, value: value) }
    static func email(_ value: String) -> Identifier { Identifier(type: .email, value: value) }

    /// Three customers over three channels: one merge by a shared identifier, one merge refused
    /// by the user_id limit, every kind of row field (null event and phase, traits, properties).
    static func stitcher() throws -> Stitcher {
        var stitcher = Stitcher(policy: try IdentityPolicy())
        let events = [
            event("m1", at: 0, ids: [anon("a1")], phase: .explore, properties: #"{"sku":"X-1","price":12.5}"#),
            event("m2", at: 1_000, type: .identify, name: nil, ids: [user("u1"), anon("a1")], traits: [("plan", #""pro""#), ("age", "41")]),
            event("m3", at: 2_000, source: app, name: "Order Completed", ids: [user("u1")], phase: .buy, properties: #"{"total":99.9,"items":[{"sku":"X-1"}]}"#),
            event("m4", at: 500, type: .page, name: "Home", ids: [anon("a2")], phase: .discover),
            event("m5", at: 3_000, ids: [anon("a2"), email("x@example.com")]),
            event("m6", at: 4_000, source: callCentre, name: "Call Started", ids: [email("x@example.com"), user("u1")], phase: .ask),
            event("m7", at: 5_000, ids: [user("u2")], phase: .explore),
            event("m8", at: 6_000, ids: [user("u2"), email("x@example.com")]),
            event("m9", at: 7_000, type: .screen, name: nil, ids: [anon("a3")]),
        ]
        for event in events { _ = stitcher.apply(event) }
        return stitcher
    }

    static func temporaryStateDirectory() -> String {
        let path = NSTemporaryDirectory() + "journeyd-snapverify-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes a snapshot of `stitcher()` and returns (state dir, snapshot dir).
    static func writeSnapshot(touchpointsPerPart: Int = 1_000_000) async throws -> (state: String, snapshot: String, stitcher: Stitcher) {
        let state = temporaryStateDirectory()
        let stitcher = try stitcher()
        let store = SnapshotStore(stateDirectory: state)
        let (name, _) = try await SnapshotWriter(store: store, touchpointsPerPart: touchpointsPerPart)
            .write(stitcher, walPosition: 4242, createdAt: Timestamp(millisecondsSinceEpoch: base + 86_400_000))
        return (state, store.directory + "/" + name, stitcher)
    }

    static func manifest(_ snapshot: String) throws -> SnapshotManifest {
        try SnapshotManifest(json: [UInt8](FileManager.default.contents(atPath: snapshot + "/manifest.json")!))
    }

    static func writeManifest(_ manifest: SnapshotManifest, to snapshot: String) throws {
        try Data(manifest.encoded()).write(to: URL(fileURLWithPath: snapshot + "/manifest.json"))
        chmod(snapshot + "/manifest.json", 0o640)
    }

    /// Replaces a file's bytes and makes the manifest agree on size and checksum (as a buggy
    /// writer would), so the verifier has to find the problem inside the file.
    static func replace(_ name: String, in snapshot: String, with bytes: [UInt8], rows: Int? = nil) throws {
        let path = snapshot + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o640)
        var manifest = try manifest(snapshot)
        let index = manifest.files.firstIndex { $0.name == name }!
        manifest.files[index].bytes = bytes.count
        manifest.files[index].sha256 = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        if let rows { manifest.files[index].rows = rows }
        try writeManifest(manifest, to: snapshot)
    }

    /// The decompressed lines of a table file.
    static func lines(_ name: String, in snapshot: String) throws -> [String] {
        let compressed = [UInt8](FileManager.default.contents(atPath: snapshot + "/" + name)!)
        let text = String(decoding: try Gzip.decompress(compressed, maxOutputBytes: 1 << 24), as: UTF8.self)
        return text.split(separator: "\n").map(String.init)
    }

    static func gzipLines(_ lines: [String]) -> [UInt8] {
        Gzip.compress(Array((lines.joined(separator: "\n") + "\n").utf8))
    }

    static func problem(_ snapshot: String) -> SnapshotProblem? {
        do {
            _ = try SnapshotVerifier.verify(directory: snapshot)
            return nil
        } catch {
            return error
        }
    }

    // MARK: good snapshots

    @Test func aWrittenSnapshotVerifies() async throws {
        let (state, snapshot, stitcher) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let report = try SnapshotVerifier.verify(directory: snapshot)
        #expect(report.notes.isEmpty)
        #expect(report.manifest.walPosition == 4242)
        #expect(report.manifest.counts.profiles == stitcher.profileCount)
        #expect(report.manifest.counts.profiles == 3)
        #expect(report.manifest.counts.touchpoints == 9)
        #expect(report.manifest.counts.identities == stitcher.identifierCount)
        let merges = try Self.lines("merges.jsonl.gz", in: snapshot)
        #expect(report.manifest.counts.merges == merges.count)
        #expect(merges.count == stitcher.counters.merges + stitcher.counters.blockedMerges)
        #expect(merges.contains { $0.contains(#""blocked":true"#) } && merges.contains { $0.contains(#""blocked":false"#) })
        #expect(report.manifest.counts.sharedIdentifiers == 0)
        #expect(
            report.rows.map(\.file) == ["profiles.jsonl.gz", "touchpoints.jsonl.gz", "identities.jsonl.gz", "merges.jsonl.gz", "shared_identifiers.jsonl.gz"])
        #expect(report.rows.map(\.rows) == [3, 9, stitcher.identifierCount, merges.count, 0])

        // Every row has exactly the documented fields, in the documented order.
        for table in SnapshotTable.allCases {
            var rows = 0
            try SnapshotTableReader.forEachRow(path: snapshot + "/" + table.fileName) { row, number in
                rows += 1
                #expect(number == rows)
                #expect(row.members.map(\.key) == table.fields)
            }
            #expect(rows == report.rows.first { $0.file == table.fileName }?.rows)
        }
    }

    @Test func theSnapshotsDirectoryAndTheStateDirectoryResolveThroughLatest() async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        #expect(try SnapshotLocator.resolve(snapshot) == snapshot)
        #expect(try SnapshotLocator.resolve(snapshot + "/") == snapshot)
        #expect(try SnapshotLocator.resolve(state + "/snapshots") == snapshot)
        #expect(try SnapshotLocator.resolve(state) == snapshot)
        #expect(throws: SnapshotProblem.self) { try SnapshotLocator.resolve(state + "/nothing") }
        try "20990101T000000Z-000099\n".write(toFile: state + "/snapshots/LATEST", atomically: true, encoding: .utf8)
        #expect { try SnapshotLocator.resolve(state + "/snapshots") } throws: { ($0 as? SnapshotProblem)?.file == "LATEST" }
    }

    @Test func numberedTouchpointPartsVerify() async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot(touchpointsPerPart: 2)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let report = try SnapshotVerifier.verify(directory: snapshot)
        let parts = report.rows.filter { $0.file.hasPrefix("touchpoints") }
        #expect(parts.map(\.file) == (1...5).map { String(format: "touchpoints-%04d.jsonl.gz", $0) })
        #expect(parts.map(\.rows) == [2, 2, 2, 2, 1])
        #expect(!FileManager.default.fileExists(atPath: snapshot + "/touchpoints.jsonl.gz"))

        // A part missing from the middle of the numbering is named.
        var manifest = try Self.manifest(snapshot)
        manifest.files.removeAll { $0.name == "touchpoints-0003.jsonl.gz" }
        manifest.counts.touchpoints -= 2
        try Self.writeManifest(manifest, to: snapshot)
        try FileManager.default.removeItem(atPath: snapshot + "/touchpoints-0003.jsonl.gz")
        let problem = try #require(Self.problem(snapshot))
        #expect(problem.file == "manifest.json")
        #expect(problem.message.contains("touchpoints-0003.jsonl.gz"), "\(problem)")
    }

    @Test func olderSnapshotsStillVerifyAfterRetentionDropsTheirCheckpoint() async throws {
        let state = Self.temporaryStateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let store = SnapshotStore(stateDirectory: state)
        let stitcher = try Self.stitcher()
        for second in 0..<3 {
            _ = try await SnapshotWriter(store: store).write(stitcher, walPosition: 10, createdAt: Timestamp(millisecondsSinceEpoch: Self.base + Int64(second) * 1000))
        }
        store.applyRetention(keep: 3)
        let names = store.names()
        #expect(names.count == 3)
        let oldest = store.directory + "/" + names[0]
        #expect(!FileManager.default.fileExists(atPath: oldest + "/" + SnapshotStore.checkpointFile))
        let report = try SnapshotVerifier.verify(directory: oldest)
        #expect(report.notes.isEmpty)
        #expect(!report.manifest.files.contains { $0.name == SnapshotStore.checkpointFile })

        // Retention stopped between rewriting the manifest and deleting the file: a note, not a failure.
        let newest = store.directory + "/" + names[2]
        try FileManager.default.copyItem(atPath: newest + "/" + SnapshotStore.checkpointFile, toPath: oldest + "/" + SnapshotStore.checkpointFile)
        #expect(try SnapshotVerifier.verify(directory: oldest).notes.count == 1)

        // A listed checkpoint that is gone is a problem (recovery needs it).
        try FileManager.default.removeItem(atPath: newest + "/" + SnapshotStore.checkpointFile)
        #expect(Self.problem(newest) == SnapshotProblem(file: SnapshotStore.checkpointFile, "missing"))
    }

    @Test func aClockSetBackDoesNotMakeTheNewestSnapshotSortFirst() async throws {
        let state = Self.temporaryStateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let store = SnapshotStore(stateDirectory: state)
        let stitcher = try Self.stitcher()
        let (first, _) = try await SnapshotWriter(store: store).write(stitcher, walPosition: 1, createdAt: Timestamp(millisecondsSinceEpoch: Self.base + 3_600_000))
        let (second, _) = try await SnapshotWriter(store: store).write(stitcher, walPosition: 2, createdAt: Timestamp(millisecondsSinceEpoch: Self.base))
        #expect(second < first)  // the name's time went back …
        #expect(store.names() == [first, second])  // … the sequence did not
        #expect(store.latestName == second)
        #expect(store.applyRetention(keep: 1) == [first])
        #expect(try SnapshotLocator.resolve(store.directory).hasSuffix(second))
    }

    // MARK: damage

    @Test(arguments: ["profiles.jsonl.gz", "touchpoints.jsonl.gz", "merges.jsonl.gz", "journeyd-state.bin.zst"])
    func aFlippedByteIsNamed(file: String) async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let path = snapshot + "/" + file
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        bytes[bytes.count / 2] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let problem = try #require(Self.problem(snapshot))
        #expect(problem.file == file)
        #expect(problem.message.contains("sha256"), "\(problem)")
    }

    @Test func aTruncatedFileIsNamed() async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let path = snapshot + "/touchpoints.jsonl.gz"
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let truncated = Array(bytes.prefix(bytes.count / 2))
        try Data(truncated).write(to: URL(fileURLWithPath: path))
        let problem = try #require(Self.problem(snapshot))
        #expect(problem.file == "touchpoints.jsonl.gz")
        #expect(problem.message.contains("is \(truncated.count) bytes, manifest.json says \(bytes.count)"), "\(problem)")

        // Even with a manifest that agrees, the gzip stream itself is found cut short.
        try Self.replace("touchpoints.jsonl.gz", in: snapshot, with: truncated)
        let inside = try #require(Self.problem(snapshot))
        #expect(inside.file == "touchpoints.jsonl.gz")
        #expect(inside.message.contains("truncated") || inside.message.contains("ends early"), "\(inside)")
    }

    @Test func aChangedRowCountInTheManifestIsNamed() async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let original = try Self.manifest(snapshot)

        // The file entry disagrees with counts.
        var manifest = original
        manifest.files[manifest.files.firstIndex { $0.name == "identities.jsonl.gz" }!].rows += 1
        try Self.writeManifest(manifest, to: snapshot)
        let counts = try #require(Self.problem(snapshot))
        #expect(counts.file == "manifest.json")
        #expect(counts.message.contains("counts.identities"), "\(counts)")

        // Both say the same wrong number: the rows in the file are counted.
        manifest.counts.identities += 1
        try Self.writeManifest(manifest, to: snapshot)
        let rows = try #require(Self.problem(snapshot))
        #expect(rows.file == "identities.jsonl.gz")
        #expect(rows.message == "has \(original.counts.identities) rows, manifest.json says \(original.counts.identities + 1)")
    }

    @Test(arguments: [
        ("touchpoints.jsonl.gz", 2, #","phase":(null|"[a-z]+")"#, "", #"missing field "phase""#),
        ("touchpoints.jsonl.gz", 2, #""seq":([0-9]+)"#, #""seq":"$1""#, "seq must be a non-negative integer"),
        ("touchpoints.jsonl.gz", 3, #"\}$"#, #","extra":1}"#, #"unexpected field "extra""#),
        ("profiles.jsonl.gz", 1, #""converted":"#, #""stage":null,"converted":"#, #"duplicate field "stage""#),
        ("profiles.jsonl.gz", 2, #""first_seen":"([^"]*)\.[0-9]{3}Z""#, #""first_seen":"$1Z""#, "first_seen must be an RFC 3339 UTC time with milliseconds"),
        ("identities.jsonl.gz", 1, #""type":"#, #""kind":"#, #"unexpected field "kind""#),
        ("merges.jsonl.gz", 1, #""reason":"#, #""reason":"x","why":"#, #"unexpected field "why""#),
        ("merges.jsonl.gz", 1, #"\}$"#, "", "not valid JSON"),
    ])
    func aRowWithoutExactlyTheDocumentedFieldsIsNamed(file: String, row: Int, pattern: String, template: String, expected: String) async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        var lines = try Self.lines(file, in: snapshot)
        let line = lines[row - 1]
        let regex = try NSRegularExpression(pattern: pattern)
        let match = try #require(regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), "\(pattern) not in \(line)")
        let replacement = regex.replacementString(for: match, in: line, offset: 0, template: template)
        lines[row - 1] = (line as NSString).replacingCharacters(in: match.range, with: replacement)
        try Self.replace(file, in: snapshot, with: Self.gzipLines(lines))
        let problem = try #require(Self.problem(snapshot))
        #expect(problem.file == file)
        #expect(problem.row == row)
        #expect(problem.message.contains(expected), "\(problem)")
    }

    @Test func touchpointsOutOfOrderAreNamed() async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        var lines = try Self.lines("touchpoints.jsonl.gz", in: snapshot)
        // Two neighbouring touchpoints of one profile change places.
        let profileOf = { (line: String) in line.prefix(while: { $0 != "," }) }
        let first = try #require(lines.indices.dropLast().first { profileOf(lines[$0]) == profileOf(lines[$0 + 1]) })
        lines.swapAt(first, first + 1)
        try Self.replace("touchpoints.jsonl.gz", in: snapshot, with: Self.gzipLines(lines))
        let problem = try #require(Self.problem(snapshot))
        #expect(problem.file == "touchpoints.jsonl.gz")
        #expect(problem.row == first + 1)
        #expect(problem.message.contains("seq is 2, expected 1"), "\(problem)")

        // A row dropped (and the counts fixed to match): the profile's touchpoint count disagrees.
        lines.swapAt(first, first + 1)
        lines.remove(at: lines.count - 1)
        try Self.replace("touchpoints.jsonl.gz", in: snapshot, with: Self.gzipLines(lines), rows: lines.count)
        var manifest = try Self.manifest(snapshot)
        manifest.counts.touchpoints = lines.count
        try Self.writeManifest(manifest, to: snapshot)
        let dropped = try #require(Self.problem(snapshot))
        #expect(dropped.message.contains("says"), "\(dropped)")
    }

    @Test func anEmptyLineOrAMissingFinalNewlineIsNamed() async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let lines = try Self.lines("profiles.jsonl.gz", in: snapshot)
        try Self.replace("profiles.jsonl.gz", in: snapshot, with: Gzip.compress(Array(lines.joined(separator: "\n").utf8)))
        let unterminated = try #require(Self.problem(snapshot))
        #expect(unterminated.row == 3)
        #expect(unterminated.message.contains("newline"), "\(unterminated)")

        try Self.replace("profiles.jsonl.gz", in: snapshot, with: Self.gzipLines([lines[0], "", lines[1], lines[2]]))
        let empty = try #require(Self.problem(snapshot))
        #expect(empty.row == 2)
        #expect(empty.message == "empty line")
    }

    @Test func strayFilesAndLoosePermissionsAreNamed() async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        chmod(snapshot + "/merges.jsonl.gz", 0o644)
        let file = try #require(Self.problem(snapshot))
        #expect(file.file == "merges.jsonl.gz")
        #expect(file.message.contains("world-accessible"), "\(file)")
        chmod(snapshot + "/merges.jsonl.gz", 0o640)

        chmod(snapshot, 0o755)
        let directory = try #require(Self.problem(snapshot))
        #expect(directory.message.contains("world-accessible"), "\(directory)")
        chmod(snapshot, 0o750)

        try FileManager.default.copyItem(atPath: snapshot + "/merges.jsonl.gz", toPath: snapshot + "/touchpoints-0001.jsonl.gz")
        let stray = try #require(Self.problem(snapshot))
        #expect(stray.file == "touchpoints-0001.jsonl.gz")
        #expect(stray.message.contains("not listed"), "\(stray)")
        try FileManager.default.removeItem(atPath: snapshot + "/touchpoints-0001.jsonl.gz")

        try FileManager.default.removeItem(atPath: snapshot + "/identities.jsonl.gz")
        let missing = try #require(Self.problem(snapshot))
        #expect(missing == SnapshotProblem(file: "identities.jsonl.gz", "missing"))
    }

    @Test func theWriterCreatesGroupReadableFilesOnly() async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        func mode(_ path: String) throws -> Int {
            try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)!.intValue
        }
        #expect(try mode(snapshot) == 0o750)
        for name in try FileManager.default.contentsOfDirectory(atPath: snapshot) {
            #expect(try mode(snapshot + "/" + name) == 0o640, "\(name)")
        }
        #expect(try mode(state + "/snapshots/LATEST") == 0o640)
    }

    // MARK: inspect

    @Test func theInspectorSummarisesTheTables() async throws {
        let (state, snapshot, _) = try await Self.writeSnapshot(touchpointsPerPart: 4)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let summary = try SnapshotInspector.summarize(directory: snapshot)
        #expect(summary.profiles == 3)
        #expect(summary.touchpoints == 9)
        #expect(summary.firstTouchpoint == "2026-01-01T00:00:00.000Z")
        #expect(summary.lastTouchpoint == "2026-01-01T00:00:07.000Z")
        #expect(summary.channels == [.init(name: "web", count: 7), .init(name: "call_center", count: 1), .init(name: "mobile", count: 1)])
        // u1's profile reached discover, explore, buy, ask; u2's explore; a3's none.
        let funnel = Dictionary(uniqueKeysWithValues: summary.funnel.map { ($0.name, $0.count) })
        #expect(funnel == ["discover": 1, "explore": 2, "buy": 1, "use": 0, "ask": 1, "engage": 0])
        #expect(summary.converted == 1)
        #expect(summary.stages == [.init(name: "explore", count: 1), .init(name: "ask", count: 1), .init(name: "none", count: 1)])
        #expect(summary.channelsPerProfile.map(\.count) == [2, 0, 1, 0])
        #expect(summary.blockedMerges == 1)
    }
}
