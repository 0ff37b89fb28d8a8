import Foundation
import JourneyCore

/// The analyst tables of a snapshot (DESIGN.md, Snapshots, plus `shared_identifiers`) and the
/// exact fields of their rows.
public enum SnapshotTable: String, CaseIterable, Sendable {
    case profiles, touchpoints, identities, merges
    case sharedIdentifiers = "shared_identifiers"

    /// The keys every row of this table has, in the order the writer emits them.
    public var fields: [String] {
        switch self {
        case .profiles:
            return [
                "profile_id", "identifiers", "traits", "first_seen", "last_seen", "touchpoints", "channels", "channel_count", "phases", "stage",
                "converted", "time_to_first_purchase_s", "merged_from",
            ]
        case .touchpoints:
            return ["profile_id", "seq", "ts", "received_at", "message_id", "source", "channel", "type", "event", "phase", "properties"]
        case .identities:
            return ["type", "value", "profile_id"]
        case .merges:
            return ["from", "into", "at", "message_id", "blocked", "reason"]
        case .sharedIdentifiers:
            return ["type", "value", "reason", "user_ids", "at"]
        }
    }

    /// The file name of the table when it is written as one file.
    public var fileName: String { rawValue + ".jsonl.gz" }

    /// Which table a file of a snapshot belongs to, and its part number for numbered parts
    /// (`touchpoints-0001.jsonl.gz` → (.touchpoints, 1)); nil for files that are not tables.
    public static func classify(_ fileName: String) -> (table: SnapshotTable, part: Int?)? {
        guard fileName.hasSuffix(".jsonl.gz") else { return nil }
        let stem = String(fileName.dropLast(".jsonl.gz".count))
        if let table = SnapshotTable(rawValue: stem) { return (table, nil) }
        guard let dash = stem.lastIndex(of: "-"), let table = SnapshotTable(rawValue: String(stem[..<dash])) else { return nil }
        let digits = stem[stem.index(after: dash)...]
        guard digits.count >= 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let part = Int(digits), part >= 1 else { return nil }
        return (table, part)
    }

    /// The name of numbered part `part` (1-based) of this table: `touchpoints-0001.jsonl.gz`.
    public func partFileName(_ part: Int) -> String {
        let digits = String(part)
        return rawValue + "-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits + ".jsonl.gz"
    }
}

/// Something wrong with a snapshot, naming the file and row (1-based line number) when there is one.
public struct SnapshotProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String?
    public var row: Int?
    public var message: String

    public init(file: String? = nil, row: Int? = nil, _ message: String) {
        self.file = file
        self.row = row
        self.message = message
    }

    public var description: String {
        switch (file, row) {
        case (let file?, let row?): return "\(file) row \(row): \(message)"
        case (let file?, nil): return "\(file): \(message)"
        default: return message
        }
    }
}

/// Streams the rows of a snapshot table (`*.jsonl.gz`) with bounded memory, for `journeyctl` and
/// other readers outside the daemon. Rows are parsed with JourneyCore's strict JSON parser.
public enum SnapshotTableReader {
    /// Calls `body` with each row parsed as JSON and its 1-based row number. Throws
    /// `SnapshotProblem` naming the file (its last path component) and the row when the file
    /// cannot be read, is not valid gzip, or a row is not one JSON value.
    public static func forEachRow(path: String, _ body: (JSONValue, Int) throws -> Void) throws {
        let reader: GzipFileReader
        do {
            reader = try GzipFileReader(path: path)
        } catch {
            throw SnapshotProblem(file: fileName(path), reason(error))
        }
        try forEachRow(reader: reader, file: fileName(path), body)
    }

    /// Calls `body` with each row's raw bytes (without the newline) and its 1-based row number.
    public static func forEachLine(path: String, _ body: (ArraySlice<UInt8>, Int) throws -> Void) throws {
        let reader: GzipFileReader
        do {
            reader = try GzipFileReader(path: path)
        } catch {
            throw SnapshotProblem(file: fileName(path), reason(error))
        }
        _ = try forEachLine(reader: reader, file: fileName(path), body)
    }

    /// The rows of `reader`, parsed; returns the number of rows.
    @discardableResult
    static func forEachRow(reader: GzipFileReader, file: String, _ body: (JSONValue, Int) throws -> Void) throws -> Int {
        try forEachLine(reader: reader, file: file) { line, row in
            let document: JSONDocument
            do {
                document = try JSONDocument(bytes: Array(line))
            } catch {
                throw SnapshotProblem(file: file, row: row, "not valid JSON: \(error)")
            }
            try body(document.root, row)
        }
    }

    /// Splits the decompressed stream into lines. Every row must end with a newline and no line
    /// may be empty (the writer produces neither); returns the number of rows.
    static func forEachLine(reader: GzipFileReader, file: String, _ body: (ArraySlice<UInt8>, Int) throws -> Void) throws -> Int {
        var carry: [UInt8] = []
        var row = 0
        func emit(_ line: ArraySlice<UInt8>) throws {
            row += 1
            guard !line.isEmpty else { throw SnapshotProblem(file: file, row: row, "empty line") }
            try body(line, row)
        }
        while true {
            let chunk: ArraySlice<UInt8>?
            do {
                chunk = try reader.nextChunk()
            } catch {
                throw SnapshotProblem(file: file, row: row + 1, Self.reason(error))
            }
            guard let chunk else { break }
            var start = chunk.startIndex
            var index = chunk.startIndex
            let end = chunk.endIndex
            while index < end {
                if chunk[index] == UInt8(ascii: "\n") {
                    if carry.isEmpty {
                        try emit(chunk[start..<index])
                    } else {
                        carry.append(contentsOf: chunk[start..<index])
                        try emit(carry[...])
                        carry.removeAll(keepingCapacity: true)
                    }
                    start = index + 1
                }
                index += 1
            }
            carry.append(contentsOf: chunk[start...])
        }
        if !carry.isEmpty {
            throw SnapshotProblem(file: file, row: row + 1, "the last row does not end with a newline (truncated?)")
        }
        return row
    }

    static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// A storage error's reason without the path (the problem already names the file).
    static func reason(_ error: StorageError) -> String {
        switch error {
        case .cannotCreateDirectory(_, let reason), .cannotOpen(_, let reason), .writeFailed(_, let reason), .readFailed(_, let reason):
            return reason
        }
    }
}
