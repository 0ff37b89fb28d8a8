import Crypto
import Foundation
import JourneyCore

/// The `<state>/snapshots/` directory: naming, atomic publication, `LATEST`, retention and
/// verification of snapshots. Stateless apart from the path; the snapshot service is its only
/// writer, and readers (recovery, `journeyctl`) only read.
///
/// A snapshot is written in `.tmp-<name>/`, every file fsynced, the directory fsynced, then
/// renamed to `<name>/` (`<UTC yyyyMMdd'T'HHmmss'Z'>-<seq, 6 digits>`) and the parent fsynced;
/// `LATEST` is then replaced atomically (temp file, fsync, rename). Directories are 0750 and files
/// 0640: readable by the daemon's group, never by the world.
public struct SnapshotStore: Sendable {
    public static let latestFile = "LATEST"
    public static let manifestFile = "manifest.json"
    /// The recovery checkpoint: the full in-memory state, read back at start. Not an analyst file.
    public static let checkpointFile = "journeyd-state.bin.zst"
    /// How many of the newest snapshots keep their recovery checkpoint (recovery falls back to
    /// the previous one if the newest does not verify).
    public static let checkpointsKept = 2

    public let directory: String

    public init(stateDirectory: String) {
        self.directory = stateDirectory + "/snapshots"
    }

    /// Published snapshot names, oldest first: by sequence number, which only grows, not by the
    /// time in the name (a clock set back must not make the newest snapshot sort first).
    public func names() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.compactMap { name in Self.sequence(of: name).map { (sequence: $0, name: name) } }
            .sorted { $0.sequence != $1.sequence ? $0.sequence < $1.sequence : $0.name < $1.name }
            .map(\.name)
    }

    public var latestName: String? {
        guard let text = try? String(contentsOfFile: directory + "/" + Self.latestFile, encoding: .utf8) else { return nil }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }

    /// The name for a new snapshot taken at `time`, with the next sequence number.
    public func nextName(at time: Timestamp) -> String {
        let next = (names().compactMap(Self.sequence(of:)).max() ?? 0) + 1
        let compact = time.description.filter { $0 != "-" && $0 != ":" }.prefix(15) + "Z"
        let digits = String(next)
        return compact + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    static func sequence(of name: String) -> Int? {
        let parts = name.split(separator: "-")
        guard parts.count == 2, parts[0].count == 16, parts[0].hasSuffix("Z") else { return nil }
        return Int(parts[1])
    }

    /// Creates the temp directory a new snapshot is written into.
    public func makeTemporaryDirectory(for name: String) throws(StorageError) -> String {
        let path = directory + "/.tmp-" + name
        try StorageFiles.createDirectory(directory)
        try? FileManager.default.removeItem(atPath: path)
        try StorageFiles.createDirectory(path)
        return path
    }

    /// Removes temp directories left by a snapshot that was interrupted.
    public func removeLeftovers() {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for entry in entries where entry.hasPrefix(".tmp-") {
            try? FileManager.default.removeItem(atPath: directory + "/" + entry)
        }
    }

    /// Writes the manifest, syncs, renames the temp directory into place and points `LATEST` at it.
    public func publish(temporaryDirectory: String, name: String, manifest: SnapshotManifest) throws(StorageError) {
        try StorageFiles.writeDurably(manifest.encoded(), to: temporaryDirectory + "/" + Self.manifestFile)
        try StorageFiles.syncDirectory(temporaryDirectory)
        let final = directory + "/" + name
        guard rename(temporaryDirectory, final) == 0 else {
            throw .writeFailed(path: final, reason: String(cString: strerror(errno)))
        }
        try StorageFiles.syncDirectory(directory)
        try StorageFiles.writeDurably(Array((name + "\n").utf8), to: directory + "/" + Self.latestFile)
    }

    /// Keeps the newest `keep` snapshots, and the recovery checkpoint only in the newest `checkpointsKept`.
    /// Returns the names removed.
    @discardableResult
    public func applyRetention(keep: Int) -> [String] {
        let all = names()
        let removed = Array(all.dropLast(max(keep, 1)))
        for name in removed { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
        for name in all.dropLast(Self.checkpointsKept) where !removed.contains(name) {
            dropCheckpoint(from: name)
        }
        return removed
    }

    /// Removes an older snapshot's recovery checkpoint and its manifest entry (the manifest is
    /// rewritten atomically first, so the snapshot keeps verifying).
    private func dropCheckpoint(from name: String) {
        guard var manifest = try? manifest(of: name), manifest.files.contains(where: { $0.name == Self.checkpointFile }) else { return }
        manifest.files.removeAll { $0.name == Self.checkpointFile }
        let snapshot = directory + "/" + name
        guard (try? StorageFiles.writeDurably(manifest.encoded(), to: snapshot + "/" + Self.manifestFile)) != nil else { return }
        try? FileManager.default.removeItem(atPath: snapshot + "/" + Self.checkpointFile)
    }

    public func manifest(of name: String) throws(SnapshotError) -> SnapshotManifest {
        let path = directory + "/" + name + "/" + Self.manifestFile
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .storage(.cannotOpen(path: path, reason: "missing or unreadable"))
        }
        return try SnapshotManifest(json: [UInt8](data))
    }

    /// Checks every file the manifest lists: present, same size, same SHA-256.
    public func verify(_ name: String) throws(SnapshotError) -> SnapshotManifest {
        try Self.verify(directory: directory + "/" + name)
    }

    /// Verifies a snapshot directory anywhere on disk (for `journeyctl snapshot verify DIR`).
    public static func verify(directory: String) throws(SnapshotError) -> SnapshotManifest {
        let path = directory + "/" + manifestFile
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .storage(.cannotOpen(path: path, reason: "missing or unreadable"))
        }
        let manifest = try SnapshotManifest(json: [UInt8](data))
        for file in manifest.files {
            let filePath = directory + "/" + file.name
            let size: Int
            let sha256: SHA256.Digest
            do {
                (size, sha256) = try FileBlockReader.digest(of: filePath)
            } catch {
                throw .fileMismatch(file: file.name, reason: "\(error)")
            }
            guard size == file.bytes else { throw .fileMismatch(file: file.name, reason: "\(size) bytes, manifest says \(file.bytes)") }
            let digest = sha256.map { String(format: "%02x", $0) }.joined()
            guard digest == file.sha256 else { throw .fileMismatch(file: file.name, reason: "sha256 differs") }
        }
        return manifest
    }
}
