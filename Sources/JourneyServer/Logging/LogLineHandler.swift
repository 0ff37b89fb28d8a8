import Foundation
import JourneyCore
import Logging

/// A swift-log handler writing one line per log event to stderr, as logfmt (default) or JSON:
/// `ts=… level=… component=… msg=… key=value …` with stable keys.
///
/// Value type as swift-log requires; each line is written with one `write(2)` call, so lines
/// from concurrent tasks never interleave. The logger label is the `component`.
public struct LogLineHandler: LogHandler {
    public typealias Format = JourneydConfiguration.Logging.Format

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let component: String
    private let format: Format

    public init(component: String, format: Format, level: Logger.Level) {
        self.component = component
        self.format = format
        self.logLevel = level
    }

    /// Installs this handler for every `Logger` the process creates.
    public static func bootstrap(format: Format, level: Logger.Level) {
        LoggingSystem.bootstrap { label in LogLineHandler(component: label, format: format, level: level) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = line(for: event, at: .now)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
    }

    /// The text `log(event:)` writes for `event` at time `ts`, without the trailing newline:
    /// `ts level component msg`, then the handler's and the event's metadata (the event's wins)
    /// sorted by key.
    func line(for event: LogEvent, at ts: Timestamp) -> [UInt8] {
        var fields: [(String, String)] = [
            ("ts", ts.description), ("level", event.level.rawValue), ("component", component),
            ("msg", event.message.description),
        ]
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for key in merged.keys.sorted() {
            fields.append((key, Self.text(merged[key]!)))
        }
        return format == .json ? Self.jsonLine(fields) : Self.logfmtLine(fields)
    }

    static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map { text($0) }.joined(separator: ",")
        case .dictionary(let dictionary):
            return dictionary.keys.sorted().map { "\($0):\(text(dictionary[$0]!))" }.joined(separator: ",")
        }
    }

    static func logfmtLine(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: " ")) }
            out += key.utf8
            out.append(UInt8(ascii: "="))
            out += logfmtValue(value).utf8
        }
        return out
    }

    /// Bare when the value is a plain token, otherwise double-quoted with `"`, `\` and control characters escaped.
    static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { scalar in
            scalar.value <= 0x20 || scalar == "=" || scalar == "\"" || scalar == "\\" || scalar.value == 0x7f
        }
        guard needsQuotes else { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    quoted += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }

    static func jsonLine(_ fields: [(String, String)]) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        for (key, value) in fields {
            writer.key(key)
            writer.string(value)
        }
        writer.endObject()
        return writer.bytes
    }
}

extension Timestamp {
    /// The current wall-clock time.
    public static var now: Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}
