import CSystemSupport
import Crypto
import Foundation

/// A snapshot file being written: appends bytes, counts them and computes their SHA-256 on the
/// way (so the manifest needs no second pass), fsyncs and closes at the end. Owned by one thread.
final class HashingFileSink {
    let path: String
    private var fd: Int32
    private var hasher = SHA256()
    private(set) var bytesWritten = 0
    private var closed = false
    /// Bytes before this offset have been handed to the kernel for writeback.
    private var writebackStarted = 0
    private static let writebackStep = 8 << 20

    init(path: String) throws(StorageError) {
        self.path = path
        fd = try StorageFiles.openForWriting(path)
    }

    deinit {
        if !closed { close(fd) }
    }

    /// Writes the first `count` bytes of `buffer`.
    func write(_ buffer: [UInt8], count: Int) throws(StorageError) {
        hasher.update(data: buffer[0..<count])
        var written = 0
        while written < count {
            let result = buffer.withUnsafeBytes { raw in Foundation.write(fd, raw.baseAddress! + written, count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            written += result
        }
        bytesWritten += count
        if bytesWritten - writebackStarted >= Self.writebackStep {
            _ = journeyd_start_writeback(fd, Int64(writebackStarted), Int64(bytesWritten - writebackStarted))
            writebackStarted = bytesWritten
        }
    }

    /// Fsyncs and closes the file; returns the hex SHA-256 of everything written.
    func finish() throws(StorageError) -> String {
        closed = true
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// What the manifest records about one written file.
struct WrittenFile: Sendable, Equatable {
    var name: String
    var bytes: Int
    var rows: Int
    var sha256: String

    var manifestFile: SnapshotManifest.File {
        SnapshotManifest.File(name: name, bytes: bytes, rows: rows, sha256: sha256)
    }
}
