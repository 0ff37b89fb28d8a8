import Foundation
import JourneyCore
import Testing

@testable import JourneyStorage

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/journeyd-storage-test-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil, "mkdtemp failed")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

@Suite("DeadLetterLog")
struct DeadLetterLogTests {
    private func time(_ text: String) throws -> Timestamp {
        try #require(Timestamp(rfc3339: text), "bad test timestamp \(text)")
    }

    private func letter(_ at: String, source: String = "website", reason: String = "bad event", event: String) throws -> DeadLetter {
        DeadLetter(receivedAt: try time(at), source: source, reason: reason, event: Array(event.utf8))
    }

    private func lines(_ path: String) throws -> [String] {
        let data = try #require(FileManager.default.contents(atPath: path), "no file at \(path)")
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.isEmpty || text.hasSuffix("\n"), "every line ends with a newline")
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    private func files(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    private func mode(_ path: String) throws -> Int {
        var info = stat()
        try #require(stat(path, &info) == 0, "stat \(path) failed")
        return Int(info.st_mode) & 0o7777
    }

    // MARK: - Line format

    @Test("each line is one JSON object with received_at, source, reason and the raw event")
    func lineFormat() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = DeadLetterLog(stateDirectory: dir.path)
        #expect(await log.directory == dir.path + "/deadletter")

        let event = #"{"type":"track","event":"Signed Up","userId":"u1"}"#
        try await log.append([try letter("2026-03-01T10:20:30.456Z", source: "call-centre", reason: "event is missing", event: event)])

        let found = try lines(dir.path + "/deadletter/2026-03-01.jsonl")
        #expect(found == [#"{"received_at":"2026-03-01T10:20:30.456Z","source":"call-centre","reason":"event is missing","event":"# + event + "}"])
        let document = try JSONDocument(string: found[0])
        #expect(document.root.isObject)
        #expect(document.root.count == 4)
        #expect(document.root["received_at"]?.string == "2026-03-01T10:20:30.456Z")
        #expect(document.root["source"]?.string == "call-centre")
        #expect(document.root["reason"]?.string == "event is missing")
        #expect(document.root["event"]?["userId"]?.string == "u1")
    }

    @Test("the event is copied byte for byte, whatever its formatting", arguments: [
        #"{ "type" : "track" ,"n":1.50E+0,"s":"\u00e9\"\\x\n" , "a":[ ],"o":{}}"#,
        #"{"name":"Zoë 🚀","nested":{"deep":[1,[2,[3]]]},"big":123456789012345678901234567890}"#,
        "\t{\"tabbed\":true}\t",
        "[1,2,3]",
        "\"just a string\"",
        "null",
        "-0.0e-7",
    ])
    func eventVerbatim(event: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = DeadLetterLog(stateDirectory: dir.path)
        try await log.append([try letter("2026-03-01T00:00:00Z", event: event)])
        let found = try lines(dir.path + "/deadletter/2026-03-01.jsonl")
        try #require(found.count == 1)
        #expect(found[0].hasSuffix(#","event":"# + event + "}"))
        let document = try JSONDocument(string: found[0])
        let raw = try #require(document.root["event"]?.rawBytes)
        #expect(Array(raw) == Array(event.trimmingCharacters(in: .whitespaces).utf8))
    }

    @Test("a pretty-printed (multi-line) item still makes exactly one line")
    func multiLineEvent() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = DeadLetterLog(stateDirectory: dir.path)
        let event = "{\r\n  \"type\": \"track\",\n  \"properties\": {\n    \"note\": \"a\\nb\"\n  }\n}"
        try await log.append([
            try letter("2026-03-01T00:00:00Z", event: event),
            try letter("2026-03-01T00:00:01Z", event: "{}"),
        ])
        let found = try lines(dir.path + "/deadletter/2026-03-01.jsonl")
        try #require(found.count == 2, "got \(found)")
        let document = try JSONDocument(string: found[0])
        let stored = try #require(document.root["event"])
        #expect(stored["type"]?.string == "track")
        #expect(stored["properties"]?["note"]?.string == "a\nb", "escaped newlines inside strings are kept")
        // Only the whitespace line breaks changed, one byte for one byte.
        #expect(stored.rawBytes.count == event.utf8.count)
        #expect(Array(stored.rawBytes) == event.utf8.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
        #expect(try JSONDocument(string: found[1]).root["event"]?.count == 0)
    }

    @Test("source and reason with quotes, backslashes, newlines and control characters stay valid JSON on one line")
    func escapedFields() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = DeadLetterLog(stateDirectory: dir.path)
        let reason = "bad \"userId\" at C:\\path\nsecond line\r\t\u{01}\u{1F} é 🚀 \u{2028}"
        let source = "src \"x\""
        try await log.append([try letter("2026-03-01T00:00:00Z", source: source, reason: reason, event: "{}")])
        let found = try lines(dir.path + "/deadletter/2026-03-01.jsonl")
        try #require(found.count == 1)
        let document = try JSONDocument(string: found[0])
        #expect(document.root["reason"]?.string == reason)
        #expect(document.root["source"]?.string == source)
    }

    @Test("several letters in one call are appended in order")
    func order() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = DeadLetterLog(stateDirectory: dir.path)
        try await log.append((0..<50).map { index in
            DeadLetter(
                receivedAt: Timestamp(rfc3339: "2026-03-01T12:00:00Z")! + Int64(index), source: "s", reason: "r\(index)",
                event: Array("{\"i\":\(index)}".utf8))
        })
        let found = try lines(dir.path + "/deadletter/2026-03-01.jsonl")
        #expect(found.count == 50)
        for (index, line) in found.enumerated() {
            let root = try JSONDocument(string: line).root
            #expect(root["event"]?["i"]?.int == index)
            #expect(root["reason"]?.string == "r\(index)")
        }
    }

    // MARK: - Daily files

    @Test("the file is named by the UTC date of received_at, with a new file each day")
    func dailyFiles() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = DeadLetterLog(stateDirectory: dir.path)
        try await log.append([
            try letter("2026-02-28T23:59:59.999Z", event: #"{"n":1}"#),
            try letter("2026-03-01T00:00:00.000Z", event: #"{"n":2}"#),
            // 23:30 at UTC-5 is already the next UTC day.
            try letter("2026-03-01T23:30:00-05:00", event: #"{"n":3}"#),
            // 00:30 at UTC+2 is still the previous UTC day.
            try letter("2026-03-01T00:30:00+02:00", event: #"{"n":4}"#),
        ])
        // Going back to an earlier day appends to that day's file.
        try await log.append([try letter("2026-02-28T08:00:00Z", event: #"{"n":5}"#)])

        let deadletter = dir.path + "/deadletter"
        #expect(try files(deadletter) == ["2026-02-28.jsonl", "2026-03-01.jsonl", "2026-03-02.jsonl"])
        func numbers(_ name: String) throws -> [Int] {
            try lines(deadletter + "/" + name).map { try #require(try JSONDocument(string: $0).root["event"]?["n"]?.int) }
        }
        #expect(try numbers("2026-02-28.jsonl") == [1, 4, 5])
        #expect(try numbers("2026-03-01.jsonl") == [2])
        #expect(try numbers("2026-03-02.jsonl") == [3])
        // received_at is written in UTC.
        let third = try lines(deadletter + "/2026-03-02.jsonl")[0]
        #expect(try JSONDocument(string: third).root["received_at"]?.string == "2026-03-02T04:30:00.000Z")
    }

    // MARK: - Permissions

    @Test("the file is created 0640 in a 0750 directory")
    func permissions() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let state = dir.path + "/state"  // does not exist yet
        let log = DeadLetterLog(stateDirectory: state)
        try await log.append([
            try letter("2026-03-01T00:00:00Z", event: "{}"),
            try letter("2026-03-02T00:00:00Z", event: "{}"),
        ])
        #expect(try mode(state + "/deadletter") == 0o750)
        #expect(try mode(state + "/deadletter/2026-03-01.jsonl") == 0o640)
        #expect(try mode(state + "/deadletter/2026-03-02.jsonl") == 0o640)
    }

    // MARK: - Appending

    @Test("a second instance (a restart) appends to the existing file instead of replacing it")
    func appendsAcrossInstances() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let first = DeadLetterLog(stateDirectory: dir.path)
        try await first.append([try letter("2026-03-01T01:00:00Z", event: #"{"n":1}"#), try letter("2026-03-01T01:00:01Z", event: #"{"n":2}"#)])
        let second = DeadLetterLog(stateDirectory: dir.path)
        try await second.append([try letter("2026-03-01T02:00:00Z", event: #"{"n":3}"#)])
        // The first instance, its file still open, appends after the second one's line.
        try await first.append([try letter("2026-03-01T03:00:00Z", event: #"{"n":4}"#)])
        let third = DeadLetterLog(stateDirectory: dir.path)
        try await third.append([try letter("2026-03-01T04:00:00Z", event: #"{"n":5}"#)])

        let found = try lines(dir.path + "/deadletter/2026-03-01.jsonl")
        let numbers = try found.map { try #require(try JSONDocument(string: $0).root["event"]?["n"]?.int) }
        #expect(numbers == [1, 2, 3, 4, 5])
        #expect(try mode(dir.path + "/deadletter/2026-03-01.jsonl") == 0o640)
    }

    @Test("an existing file's content is kept")
    func keepsExistingContent() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/deadletter", withIntermediateDirectories: true)
        let existing = #"{"received_at":"2026-03-01T00:00:00.000Z","source":"old","reason":"old","event":{}}"# + "\n"
        #expect(FileManager.default.createFile(atPath: dir.path + "/deadletter/2026-03-01.jsonl", contents: Data(existing.utf8)))
        let log = DeadLetterLog(stateDirectory: dir.path)
        try await log.append([try letter("2026-03-01T05:00:00Z", source: "new", event: "{}")])
        let found = try lines(dir.path + "/deadletter/2026-03-01.jsonl")
        #expect(found.count == 2)
        #expect(found[0] + "\n" == existing)
        #expect(try JSONDocument(string: found[1]).root["source"]?.string == "new")
    }

    @Test("appending nothing creates nothing")
    func emptyAppend() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await DeadLetterLog(stateDirectory: dir.path).append([])
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/deadletter"))
    }

    // MARK: - Errors

    @Test("a state dir that is a regular file gives a clear cannotCreateDirectory error")
    func stateDirIsAFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let state = dir.path + "/state"
        #expect(FileManager.default.createFile(atPath: state, contents: Data("not a dir".utf8)))
        let log = DeadLetterLog(stateDirectory: state)
        let error = await #expect(throws: StorageError.self) {
            try await log.append([try letter("2026-03-01T00:00:00Z", event: "{}")])
        }
        guard case .cannotCreateDirectory(let path, let reason) = error else {
            Issue.record("expected cannotCreateDirectory, got \(String(describing: error))")
            return
        }
        #expect(path == state + "/deadletter")
        #expect(!reason.isEmpty)
        #expect(error?.description.contains(state + "/deadletter") == true)
        #expect(error?.description.contains("cannot create directory") == true)
        // The file in the way is left alone.
        #expect(FileManager.default.contents(atPath: state) == Data("not a dir".utf8))
    }

    @Test("a regular file where the deadletter directory should be is an error too, and the log recovers once it is gone")
    func deadletterIsAFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(FileManager.default.createFile(atPath: dir.path + "/deadletter", contents: Data()))
        let log = DeadLetterLog(stateDirectory: dir.path)
        let error = await #expect(throws: StorageError.self) {
            try await log.append([try letter("2026-03-01T00:00:00Z", event: "{}")])
        }
        #expect(error.map { if case .cannotCreateDirectory = $0 { true } else { false } } == true, "got \(String(describing: error))")

        try FileManager.default.removeItem(atPath: dir.path + "/deadletter")
        try await log.append([try letter("2026-03-01T00:00:00Z", event: #"{"ok":1}"#)])
        #expect(try lines(dir.path + "/deadletter/2026-03-01.jsonl").count == 1)
    }
}
