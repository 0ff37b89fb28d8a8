import Foundation
import JourneyCore

/// One rejected item, with why it was refused.
public struct DeadLetter: Sendable {
    public var receivedAt: Timestamp
    public var source: String
    public var reason: String
    /// The item exactly as received (valid JSON: items come from a body that parsed). Line breaks
    /// in it can only be insignificant whitespace (JSON strings escape them); the log writes them
    /// as spaces so each dead letter stays on one line.
    public var event: [UInt8]

    public init(receivedAt: Timestamp, source: String, reason: String, event: [UInt8]) {
        self.receivedAt = receivedAt
        self.source = source
        self.reason = reason
        self.event = event
    }
}

extension DeadLetter {
    /// Why an event carrying an identifier suppressed by an erasure is refused.
    public static let suppressedReason = "suppressed (an identifier it carries belongs to an erased customer)"

    /// The dead letter of such an event: its body is not kept (keeping it would undo the
    /// erasure), so `event` is null.
    public static func suppressed(receivedAt: Timestamp, source: String) -> DeadLetter {
        DeadLetter(receivedAt: receivedAt, source: source, reason: suppressedReason, event: Array("null".utf8))
    }
}

/// Appends rejected items to `<state>/deadletter/<UTC-date>.jsonl`, one JSON line each:
/// `{"received_at":…,"source":…,"reason":…,"event":<the raw item>}`.
///
/// An actor: it alone owns the open file. Files are created group-readable (0640) in a 0750
/// directory; a new file starts with each UTC day of `received_at`.
public actor DeadLetterLog {
    public let directory: String
    private var currentDate: String?
    private var handle: FileHandle?

    public init(stateDirectory: String) {
        self.directory = stateDirectory + "/deadletter"
    }

    public func append(_ letters: [DeadLetter]) throws(StorageError) {
        for letter in letters {
            var writer = JSONWriter(capacity: letter.event.count + 128)
            writer.beginObject()
            writer.key("received_at")
            writer.string(letter.receivedAt.description)
            writer.key("source")
            writer.string(letter.source)
            writer.key("reason")
            writer.string(letter.reason)
            writer.key("event")
            // Valid JSON has raw CR/LF only as whitespace between tokens (a pretty-printed
            // batch item); write them as spaces so the entry stays one JSONL line.
            writer.raw(letter.event.map { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") ? UInt8(ascii: " ") : $0 })
            writer.endObject()
            var line = writer.bytes
            line.append(UInt8(ascii: "\n"))
            try write(line, date: letter.receivedAt.utcDateString)
        }
    }

    private func write(_ line: [UInt8], date: String) throws(StorageError) {
        if currentDate != date || handle == nil {
            try? handle?.close()
            handle = nil
            let path = "\(directory)/\(date).jsonl"
            try StorageFiles.createDirectory(directory)
            try StorageFiles.createFileIfMissing(path, permissions: 0o640)
            guard let opened = FileHandle(forWritingAtPath: path) else {
                throw .cannotOpen(path: path, reason: "open failed")
            }
            handle = opened
            currentDate = date
        }
        do {
            try handle!.seekToEnd()
            try handle!.write(contentsOf: line)
        } catch {
            throw .writeFailed(path: "\(directory)/\(date).jsonl", reason: systemErrorDescription(error))
        }
    }
}
