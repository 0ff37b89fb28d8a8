import Foundation
import JourneyCore
import Logging
import Testing

@testable import JourneyServer

/// A strict reader for the logfmt lines the handler writes: `key=value` pairs separated by one
/// space; a value is either bare (no space, `=`, `"`, `\` or control character) or double-quoted
/// with `\"`, `\\`, `\n`, `\r`, `\t` and `\uXXXX` escapes. Returns nil for anything else.
enum LogfmtReader {
    static func parse(_ line: String) -> [(key: String, value: String)]? {
        var fields: [(key: String, value: String)] = []
        var scalars = Array(line.unicodeScalars)[...]
        while !scalars.isEmpty {
            if !fields.isEmpty {
                guard scalars.first == " " else { return nil }
                scalars = scalars.dropFirst()
            }
            guard let equals = scalars.firstIndex(of: "="), equals > scalars.startIndex else { return nil }
            let key = String(String.UnicodeScalarView(scalars[..<equals]))
            guard !key.unicodeScalars.contains(where: { $0 == " " || $0 == "\"" }) else { return nil }
            scalars = scalars[(equals + 1)...]
            var value = String.UnicodeScalarView()
            if scalars.first == "\"" {
                scalars = scalars.dropFirst()
                var closed = false
                while let scalar = scalars.popFirst() {
                    if scalar == "\"" {
                        closed = true
                        break
                    }
                    guard scalar.value >= 0x20, scalar.value != 0x7F else { return nil }  // raw control characters never appear
                    guard scalar == "\\" else {
                        value.append(scalar)
                        continue
                    }
                    switch scalars.popFirst() {
                    case "\""?: value.append("\"")
                    case "\\"?: value.append("\\")
                    case "n"?: value.append("\n")
                    case "r"?: value.append("\r")
                    case "t"?: value.append("\t")
                    case "u"?:
                        guard scalars.count >= 4 else { return nil }
                        let hex = String(String.UnicodeScalarView(scalars.prefix(4)))
                        scalars = scalars.dropFirst(4)
                        guard let code = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(code) else { return nil }
                        value.append(decoded)
                    default: return nil
                    }
                }
                guard closed else { return nil }
                guard scalars.isEmpty || scalars.first == " " else { return nil }
            } else {
                let end = scalars.firstIndex(of: " ") ?? scalars.endIndex
                let bare = scalars[..<end]
                guard !bare.isEmpty else { return nil }  // empty values must be quoted
                for scalar in bare where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "=" || scalar == "\"" || scalar == "\\" {
                    return nil
                }
                value.append(contentsOf: bare)
                scalars = scalars[end...]
            }
            fields.append((key, String(value)))
        }
        return fields
    }
}

@Suite("LogLineHandler")
struct LogLineHandlerTests {
    static let epoch = Timestamp(millisecondsSinceEpoch: 0)

    private func event(
        _ message: Logger.Message, level: Logger.Level = .info, metadata: Logger.Metadata? = nil
    ) -> LogEvent {
        LogEvent(level: level, message: message, metadata: metadata, source: nil, file: #fileID, function: #function, line: #line)
    }

    private func line(
        _ handler: LogLineHandler, _ event: LogEvent, at ts: Timestamp = LogLineHandlerTests.epoch
    ) -> String {
        String(decoding: handler.line(for: event, at: ts), as: UTF8.self)
    }

    // MARK: - logfmt values

    @Test("plain tokens are written bare", arguments: [
        "plain", "listening", "127.0.0.1:8443", "2026-03-01T00:00:00.000Z", "a-b_c.d/e:f@g,h", "42", "-1.5e3", "Zoë", "🚀", "[::1]:0",
        "with'apostrophe", "semi;colon",
    ])
    func bare(value: String) {
        #expect(LogLineHandler.logfmtValue(value) == value)
    }

    @Test("values needing quotes are quoted and escaped", arguments: [
        ("", #""""#),
        (" ", #"" ""#),
        ("two words", #""two words""#),
        (" leading", #"" leading""#),
        ("trailing ", #""trailing ""#),
        ("a=b", #""a=b""#),
        ("=", #""=""#),
        (#"say "hi""#, #""say \"hi\"""#),
        (#"""#, #""\"""#),
        (#"C:\dir"#, #""C:\\dir""#),
        (#"\"#, #""\\""#),
        ("line1\nline2", #""line1\nline2""#),
        ("cr\rlf\n", #""cr\rlf\n""#),
        ("tab\there", #""tab\there""#),
        ("\u{0}", #""\u0000""#),
        ("\u{1}x", #""\u0001x""#),
        ("\u{1B}[31mred\u{1B}[0m", #""\u001b[31mred\u001b[0m""#),
        ("bell\u{7}", #""bell\u0007""#),
        ("\u{1F}", #""\u001f""#),
        ("del\u{7F}", #""del\u007f""#),
        ("é and \"ü\"", #""é and \"ü\"""#),
    ])
    func quoted(value: String, expected: String) {
        #expect(LogLineHandler.logfmtValue(value) == expected)
    }

    @Test("every value survives a logfmt round trip on one line")
    func roundTrip() throws {
        let alphabet: [Character] = ["a", "Z", "0", " ", "=", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1B}", "\u{7F}", "é", "🚀", ":", "-", ","]
        var generator = SystemRandomNumberGenerator()
        var values = ["", " ", "\"\"", "\\\\", "=="]
        for _ in 0..<500 {
            let length = Int.random(in: 0...12, using: &generator)
            values.append(String((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        let fields = values.enumerated().map { ("k\($0.offset)", $0.element) }
        let text = String(decoding: LogLineHandler.logfmtLine(fields), as: UTF8.self)
        #expect(!text.contains("\n") && !text.contains("\r"))
        let parsed = try #require(LogfmtReader.parse(text), "not parseable: \(text)")
        #expect(parsed.map { $0.key } == fields.map { $0.0 })
        #expect(parsed.map { $0.value } == values)
    }

    @Test("every handler follows the shared level control until its logger sets its own level")
    func levelControl() {
        let control = LogLevelControl(.info)
        var first = LogLineHandler(component: "a", format: .logfmt, levelControl: control, priorityPrefix: false)
        let second = LogLineHandler(component: "b", format: .logfmt, levelControl: control, priorityPrefix: false)
        control.set(.warning)
        #expect(first.logLevel == .warning && second.logLevel == .warning)
        first.logLevel = .debug
        control.set(.error)
        #expect(first.logLevel == .debug && second.logLevel == .error)
    }

    // MARK: - Whole lines

    @Test("logfmt line: ts level component msg, then metadata sorted by key")
    func logfmtKeyOrder() throws {
        var handler = LogLineHandler(component: "ingest", format: .logfmt, level: .info)
        handler[metadataKey: "zeta"] = "z"
        handler[metadataKey: "request"] = "from-handler"
        let text = line(
            handler,
            event("batch refused", level: .warning, metadata: ["alpha": "a b", "request": "from-event", "mid": "m"]),
            at: Timestamp(rfc3339: "2026-03-01T10:20:30.456Z")!)
        #expect(text == #"ts=2026-03-01T10:20:30.456Z level=warning component=ingest msg="batch refused" alpha="a b" mid=m request=from-event zeta=z"#)
        let parsed = try #require(LogfmtReader.parse(text))
        #expect(parsed.map { $0.key } == ["ts", "level", "component", "msg", "alpha", "mid", "request", "zeta"])
    }

    @Test("a line without metadata has exactly the four standard keys")
    func noMetadata() {
        let handler = LogLineHandler(component: "journeyd", format: .logfmt, level: .info)
        #expect(line(handler, event("started")) == "ts=1970-01-01T00:00:00.000Z level=info component=journeyd msg=started")
    }

    @Test("every level is written by its name", arguments: Logger.Level.allCases)
    func levels(level: Logger.Level) throws {
        let handler = LogLineHandler(component: "c", format: .logfmt, level: .trace)
        let parsed = try #require(LogfmtReader.parse(line(handler, event("m", level: level))))
        #expect(parsed[1].key == "level")
        #expect(parsed[1].value == level.rawValue)
    }

    @Test("messages, components and metadata with special characters stay one parseable line")
    func hostileLine() throws {
        var handler = LogLineHandler(component: "http listener", format: .logfmt, level: .info)
        handler.metadata = ["path": "/v1/batch?x=1&y=\"2\"", "empty": ""]
        let message: Logger.Message = "bad body:\n{\"a\":1}\r\n\u{1B}[2J \\o/"
        let text = line(handler, event(message, metadata: ["error": "line1\nline2\ttabbed"]))
        #expect(!text.contains("\n") && !text.contains("\r") && !text.contains("\u{1B}"))
        let parsed = try #require(LogfmtReader.parse(text), "not parseable: \(text)")
        #expect(parsed.map { $0.key } == ["ts", "level", "component", "msg", "empty", "error", "path"])
        #expect(parsed[2].value == "http listener")
        #expect(parsed[3].value == message.description)
        #expect(parsed[4].value == "")
        #expect(parsed[5].value == "line1\nline2\ttabbed")
        #expect(parsed[6].value == "/v1/batch?x=1&y=\"2\"")
    }

    @Test("metadata named like a standard key does not make a second ts, level, component or msg")
    func reservedMetadataKeys() throws {
        let handler = LogLineHandler(component: "c", format: .logfmt, level: .info)
        let text = line(handler, event("real", metadata: ["msg": "fake", "level": "x", "ts": "t", "component": "y", "ok": "1"]))
        let parsed = try #require(LogfmtReader.parse(text))
        #expect(parsed.map { $0.key } == ["ts", "level", "component", "msg", "meta_component", "meta_level", "meta_msg", "meta_ts", "ok"])
        #expect(parsed[3].value == "real")
    }

    @Test("under journald every line starts with its syslog priority", arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func journaldPriority(level: Logger.Level, priority: Int) throws {
        let handler = LogLineHandler(component: "c", format: .logfmt, level: .trace, priorityPrefix: true)
        let text = line(handler, event("m", level: level))
        #expect(text.hasPrefix("<\(priority)>ts="), "\(text)")
        #expect(LogfmtReader.parse(String(text.drop { $0 != ">" }.dropFirst())) != nil)
        let json = LogLineHandler(component: "c", format: .json, level: .trace, priorityPrefix: true)
        #expect(line(json, event("m", level: level)).hasPrefix("<\(priority)>{"))
    }

    @Test("journald is detected only when JOURNAL_STREAM names this process's stderr")
    func journalStreamDetection() {
        var status = stat()
        #expect(fstat(2, &status) == 0)
        #expect(LogLineHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]))
        #expect(!LogLineHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino &+ 1)"]))
        #expect(!LogLineHandler.stderrIsJournal(environment: [:]))
    }

    @Test("metadata values of every shape are flattened to text")
    func metadataShapes() {
        #expect(LogLineHandler.text(.string("s")) == "s")
        #expect(LogLineHandler.text(.stringConvertible(42)) == "42")
        #expect(LogLineHandler.text(.array([.string("a"), .stringConvertible(2)])) == "a,2")
        #expect(LogLineHandler.text(.dictionary(["b": "2", "a": "1"])) == "a:1,b:2")
        #expect(LogLineHandler.text(.array([])) == "")

        let handler = LogLineHandler(component: "c", format: .logfmt, level: .info)
        let text = line(handler, event("m", metadata: ["count": .stringConvertible(3), "list": .array(["x", "y z"])]))
        #expect(text.hasSuffix(#" count=3 list="x,y z""#))
    }

    @Test("the handler keeps its level and metadata")
    func handlerState() {
        var handler = LogLineHandler(component: "c", format: .json, level: .notice)
        #expect(handler.logLevel == .notice)
        handler.logLevel = .debug
        #expect(handler.logLevel == .debug)
        #expect(handler[metadataKey: "k"] == nil)
        handler[metadataKey: "k"] = "v"
        #expect(handler[metadataKey: "k"] == "v")
        #expect(handler.metadata == ["k": "v"])
    }

    // MARK: - JSON

    @Test("JSON lines parse as JSON, with the same keys in the same order")
    func jsonLine() throws {
        var handler = LogLineHandler(component: "admin", format: .json, level: .info)
        handler[metadataKey: "zeta"] = "z"
        let message: Logger.Message = "quote \" backslash \\ newline \n tab \t nul \u{0} esc \u{1B} del \u{7F} é 🚀"
        let text = line(
            handler, event(message, level: .error, metadata: ["alpha": "", "beta": .array(["1", "2"])]),
            at: Timestamp(rfc3339: "2026-03-01T00:00:00Z")!)
        #expect(!text.contains("\n") && !text.contains("\r"))
        let document = try JSONDocument(string: text)
        let root = document.root
        #expect(root.isObject)
        #expect(root.members.map { $0.key } == ["ts", "level", "component", "msg", "alpha", "beta", "zeta"])
        #expect(root["ts"]?.string == "2026-03-01T00:00:00.000Z")
        #expect(root["level"]?.string == "error")
        #expect(root["component"]?.string == "admin")
        #expect(root["msg"]?.string == message.description)
        #expect(root["alpha"]?.string == "")
        #expect(root["beta"]?.string == "1,2")
        #expect(root["zeta"]?.string == "z")
    }

    @Test("random messages always make valid JSON lines")
    func jsonRandom() throws {
        let handler = LogLineHandler(component: "c", format: .json, level: .info)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let scalars = (0..<Int.random(in: 0...20, using: &generator)).map { _ -> Character in
                let pick = Int.random(in: 0..<4, using: &generator)
                let value: UInt32 = switch pick {
                case 0: UInt32.random(in: 0...0x1F, using: &generator)
                case 1: UInt32.random(in: 0x20...0x7F, using: &generator)
                case 2: UInt32.random(in: 0xA0...0xD7FF, using: &generator)
                default: UInt32.random(in: 0x1_0000...0x10_FFFF, using: &generator)
                }
                return Character(Unicode.Scalar(value)!)
            }
            let message = String(scalars)
            let text = line(handler, event("\(message)", metadata: ["m": "\(message)"]))
            let document = try JSONDocument(string: text)
            #expect(document.root["msg"]?.string == message)
            #expect(document.root["m"]?.string == message)
        }
    }
}
