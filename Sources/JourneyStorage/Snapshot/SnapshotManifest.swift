import JourneyCore

/// `manifest.json` of a snapshot (DESIGN.md, Snapshots): format, creation time, the WAL position
/// it is a cut at, row counts, and every file's size, rows and SHA-256.
public struct SnapshotManifest: Sendable, Equatable {
    public static let format = "journeyd-snapshot/1"

    public struct File: Sendable, Equatable {
        public var name: String
        public var bytes: Int
        public var rows: Int
        public var sha256: String
    }

    public struct Counts: Sendable, Equatable {
        public var profiles: Int
        public var touchpoints: Int
        public var identities: Int
        public var merges: Int
        /// Nil in snapshots written before the `shared_identifiers` table existed.
        public var sharedIdentifiers: Int?

        public init(profiles: Int, touchpoints: Int, identities: Int, merges: Int, sharedIdentifiers: Int?) {
            (self.profiles, self.touchpoints, self.identities, self.merges) = (profiles, touchpoints, identities, merges)
            self.sharedIdentifiers = sharedIdentifiers
        }

        /// The count for a table; nil for a table this snapshot does not have.
        public func rows(of table: SnapshotTable) -> Int? {
            switch table {
            case .profiles: return profiles
            case .touchpoints: return touchpoints
            case .identities: return identities
            case .merges: return merges
            case .sharedIdentifiers: return sharedIdentifiers
            }
        }
    }

    public var createdAt: Timestamp
    public var walPosition: UInt64
    public var counts: Counts
    public var files: [File]

    /// The manifest as JSON. With `name`, a leading `"name"` key says which snapshot directory it
    /// describes (used in the `POST /v1/snapshots` answer; `manifest.json` itself has no name).
    public func encoded(name: String? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        if let name {
            writer.key("name")
            writer.string(name)
        }
        writer.key("format")
        writer.string(Self.format)
        writer.key("created_at")
        writer.string(createdAt.description)
        writer.key("wal_position")
        writer.int(Int(walPosition))
        writer.key("counts")
        writer.beginObject()
        for table in SnapshotTable.allCases {
            guard let value = counts.rows(of: table) else { continue }
            writer.key(table.rawValue)
            writer.int(value)
        }
        writer.endObject()
        writer.key("files")
        writer.beginArray()
        for file in files {
            writer.beginObject()
            writer.key("name")
            writer.string(file.name)
            writer.key("bytes")
            writer.int(file.bytes)
            writer.key("rows")
            writer.int(file.rows)
            writer.key("sha256")
            writer.string(file.sha256)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        var bytes = writer.bytes
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    public init(createdAt: Timestamp, walPosition: UInt64, counts: Counts, files: [File]) {
        self.createdAt = createdAt
        self.walPosition = walPosition
        self.counts = counts
        self.files = files
    }

    /// Parses a manifest, naming the first field that is missing or wrong.
    public init(json bytes: [UInt8]) throws(SnapshotError) {
        let root: JSONValue
        do {
            root = try JSONDocument(bytes: bytes).root
        } catch {
            throw .invalidManifest("not JSON: \(error.description)")
        }
        guard root["format"]?.string == Self.format else { throw .invalidManifest("format is not \(Self.format)") }
        guard let created = root["created_at"]?.string.flatMap(Timestamp.init(rfc3339:)) else { throw .invalidManifest("created_at") }
        guard let position = root["wal_position"]?.int64, position >= 0 else { throw .invalidManifest("wal_position") }
        guard let counts = root["counts"], let profiles = counts["profiles"]?.int, let touchpoints = counts["touchpoints"]?.int,
            let identities = counts["identities"]?.int, let merges = counts["merges"]?.int
        else { throw .invalidManifest("counts") }
        let shared = counts[SnapshotTable.sharedIdentifiers.rawValue]
        guard shared == nil || shared?.int != nil else { throw .invalidManifest("counts.shared_identifiers") }
        guard let files = root["files"], files.kind == .array else { throw .invalidManifest("files") }
        var parsed: [File] = []
        for file in files.elements {
            guard let name = file["name"]?.string, let size = file["bytes"]?.int, let rows = file["rows"]?.int,
                let sha = file["sha256"]?.string
            else { throw .invalidManifest("files entry \(parsed.count)") }
            parsed.append(File(name: name, bytes: size, rows: rows, sha256: sha))
        }
        self.init(
            createdAt: created, walPosition: UInt64(position),
            counts: Counts(profiles: profiles, touchpoints: touchpoints, identities: identities, merges: merges, sharedIdentifiers: shared?.int),
            files: parsed)
    }
}

/// A snapshot that cannot be written, found or trusted.
public enum SnapshotError: Error, Equatable, CustomStringConvertible {
    case invalidManifest(String)
    case fileMismatch(file: String, reason: String)
    case storage(StorageError)
    case checkpoint(String)

    public var description: String {
        switch self {
        case .invalidManifest(let field): return "manifest.json is invalid: \(field)"
        case .fileMismatch(let file, let reason): return "\(file) does not match the manifest: \(reason)"
        case .storage(let error): return error.description
        case .checkpoint(let reason): return "the recovery checkpoint cannot be read: \(reason)"
        }
    }
}
