import Foundation
import JourneyCore
import JourneyStorage

/// What `journeyctl score` needs from a snapshot's touchpoints table: each row's source, message
/// id and profile, and the size of the `properties` it keeps. Read once, row by row, from every
/// touchpoints file the manifest lists (one file or numbered parts).
public struct StoredTouchpoints: Sendable {
    public struct Row: Sendable, Equatable {
        public var source: String
        public var messageID: String
        public var profileID: String

        public init(source: String, messageID: String, profileID: String) {
            self.source = source
            self.messageID = messageID
            self.profileID = profileID
        }
    }

    /// The snapshot directory read (LATEST resolved).
    public var directory: String
    public var rows: [Row]
    /// Bytes of all rows' `properties` JSON text.
    public var propertiesBytes: Int

    init(directory: String, rows: [Row], propertiesBytes: Int) {
        self.directory = directory
        self.rows = rows
        self.propertiesBytes = propertiesBytes
    }

    /// Reads the snapshot `path` names: a snapshot directory, a snapshots directory (its LATEST)
    /// or a state directory.
    public static func read(path: String) throws(SnapshotProblem) -> StoredTouchpoints {
        let directory = try SnapshotLocator.resolve(path)
        let manifest: SnapshotManifest
        do {
            let bytes = try [UInt8](contentsOfFile: directory + "/" + SnapshotStore.manifestFile)
            manifest = try SnapshotManifest(json: bytes)
        } catch {
            throw SnapshotProblem(file: SnapshotStore.manifestFile, "cannot be read: \(error)")
        }
        var result = StoredTouchpoints(directory: directory, rows: [], propertiesBytes: 0)
        result.rows.reserveCapacity(manifest.counts.touchpoints)
        let files = manifest.files.map(\.name).filter { SnapshotTable.classify($0)?.table == .touchpoints }.sorted()
        for file in files {
            do {
                try SnapshotTableReader.forEachRow(path: directory + "/" + file) { row, number in
                    guard let source = row["source"]?.string, let messageID = row["message_id"]?.string, let profileID = row["profile_id"]?.string else {
                        throw SnapshotProblem(file: file, row: number, "source, message_id and profile_id must be strings")
                    }
                    result.rows.append(Row(source: source, messageID: messageID, profileID: profileID))
                    result.propertiesBytes += row["properties"]?.rawBytes.count ?? 0
                }
            } catch let problem as SnapshotProblem {
                throw problem
            } catch {
                throw SnapshotProblem(file: file, "\(error)")
            }
        }
        return result
    }
}

extension [UInt8] {
    init(contentsOfFile path: String) throws {
        let url = URL(fileURLWithPath: path)
        self = [UInt8](try Data(contentsOf: url))
    }
}
