import Foundation
import JourneyCore
import Logging
import Synchronization

/// A swift-log handler writing one line per log event to stderr, as logfmt (default) or JSON:
/// `ts=… level=… component=… msg=… key=value …` with stable keys.
///
/// Value type as swift-log requires; each line is written with one `write(2)` call, so lines
/// from concurrent tasks never interleave. The logger label is the `component`.
public struct LogLineHandler: LogHandler {
    public typealias Format = JourneydConfiguration.Logging.Format

    public var metadata: Logger.Metadata = [:]
    /// The process-wide level from `levelControl`, unless this handler's logger set its own.
    public var logLevel: Logger.Level {
        get { ownLevel ?? levelControl.level }
        set { ownLevel = newValue }
    }
    private var ownLevel: Logger.Level?
    private let levelControl: LogLevelControl
    private let component: String
    private let format: Format
    /// Prefix each line with its syslog priority (`<6>` for info …), which journald reads from a
    /// service's stderr and strips (sd-daemon(3)).
    private let priorityPrefix: Bool

    public init(component: String, format: Format, level: Logger.Level, priorityPrefix: Bool = false) {
        self.init(component: component, format: format, levelControl: LogLevelControl(level), priorityPrefix: priorityPrefix)
    }

    init(component: String, format: Format, levelControl: LogLevelControl, priorityPrefix: Bool) {
        self.component = component
        self.format = format
        self.levelControl = levelControl
        self.priorityPrefix = priorityPrefix
    }

    /// Installs this handler for every `Logger` the process creates, with priority prefixes when
    /// stderr is connected to journald. Returns the control that changes every handler's level
    /// at once (a configuration reload sets `logging.level` through it).
    @discardableResult
    public static func bootstrap(format: Format, level: Logger.Level) -> LogLevelControl {
        let journald = stderrIsJournal()
        let control = LogLevelControl(level)
        LoggingSystem.bootstrap { label in
            LogLineHandler(component: label, format: format, levelControl: control, priorityPrefix: journald)
        }
        return control
    }

    /// Whether stderr is the journal stream systemd connected: `$JOURNAL_STREAM` names its
    /// `device:inode` (checked, so a child process that inherited the variable but whose stderr
    /// was redirected does not add prefixes).
    static func stderrIsJournal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        var status = stat()
        guard fstat(2, &status) == 0 else { return false }
        return stream == "\(status.st_dev):\(status.st_ino)"
    }

    /// The fields the handler writes itself; metadata with these names is written as `meta_<key>`.
    static let reservedKeys: Set<String> = ["ts", "level", "component", "msg"]

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
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
    /// sorted by key, a reserved name prefixed `meta_`; under journald, the `<N>` priority first.
    func line(for event: LogEvent, at ts: Timestamp) -> [UInt8] {
        var fields: [(String, String)] = [
            ("ts", ts.description), ("level", event.level.rawValue), ("component", component),
            ("msg", event.message.description),
        ]
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let named = merged.map { key, value in (Self.reservedKeys.contains(key) ? "meta_" + key : key, Self.text(value)) }
        fields += named.sorted { $0.0 < $1.0 }
        let line = format == .json ? Self.jsonLine(fields) : Self.logfmtLine(fields)
        return priorityPrefix ? Array("<\(Self.syslogPriority(event.level))>".utf8) + line : line
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

/// The log level every `LogLineHandler` of the process follows, changed at runtime by a
/// configuration reload. Shared by all loggers on every thread; one atomic load per log call.
public final class LogLevelControl: Sendable {
    private static let levels = Logger.Level.allCases
    private let index: Atomic<Int>

    public init(_ level: Logger.Level) {
        index = Atomic(Self.levels.firstIndex(of: level)!)
    }

    public var level: Logger.Level { Self.levels[index.load(ordering: .relaxed)] }

    public func set(_ level: Logger.Level) {
        index.store(Self.levels.firstIndex(of: level)!, ordering: .relaxed)
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
