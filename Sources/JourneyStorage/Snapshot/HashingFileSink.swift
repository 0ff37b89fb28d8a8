import CSystemSupport
import Crypto
import Foundation

/// A snapshot file being written: appends bytes, counts them and computes their SHA-256 on the
/// way (so the manifest needs no second pass), fsyncs and closes at the end. Owned by one thread.
///
/// Bytes are gathered in an aligned 8 MiB staging buffer and written in whole blocks with
/// `O_DIRECT`, bypassing the page cache: copying gigabytes of snapshot into the page cache cost
/// the snapshot threads a tenth of their time, and evicted pages ingest and lookups use. The
/// last block is padded and the file cut back to its length. Where the file system refuses
/// `O_DIRECT`, the same chunks go through the page cache, with writeback started after each.
///
/// With a `SnapshotPacer`, each write is a unit of work after which the writing thread may sleep
/// to leave the CPU to ingest.
final class HashingFileSink {
    let path: String
    private var fd: Int32
    private var hasher = SHA256()
    private(set) var bytesWritten = 0
    private var closed = false
    /// Whether `fd` was opened with `O_DIRECT`.
    let direct: Bool
    private let staging: UnsafeMutableRawBufferPointer
    private var staged = 0
    /// Bytes of the file already written from the staging buffer.
    private var flushed = 0
    private static let blockSize = 4096
    private static let stagingSize = 8 << 20
    private let pacer: SnapshotPacer?
    private var meter = SnapshotPacer.Meter()

    /// - Parameters:
    ///   - bypassingPageCache: false writes through the page cache even where `O_DIRECT` works
    ///     (the path file systems without it take).
    ///   - pacer: paces the thread that writes (and creates) this file.
    init(path: String, bypassingPageCache: Bool = true, pacer: SnapshotPacer? = nil) throws(StorageError) {
        self.path = path
        self.pacer = pacer
        if bypassingPageCache, let directFD = try StorageFiles.openForDirectWriting(path) {
            fd = directFD
            direct = true
        } else {
            fd = try StorageFiles.openForWriting(path)
            direct = false
        }
        staging = .allocate(byteCount: Self.stagingSize, alignment: Self.blockSize)
    }

    deinit {
        if !closed { close(fd) }
        staging.deallocate()
    }

    /// Writes the first `count` bytes of `buffer`.
    func write(_ buffer: [UInt8], count: Int) throws(StorageError) {
        hasher.update(data: buffer[0..<count])
        var taken = 0
        while taken < count {
            let take = min(count - taken, Self.stagingSize - staged)
            buffer.withUnsafeBytes { source in
                (staging.baseAddress! + staged).copyMemory(from: source.baseAddress! + taken, byteCount: take)
            }
            staged += take
            taken += take
            if staged == Self.stagingSize { try flushStaging(length: staged) }
        }
        bytesWritten += count
        pacer?.pace(&meter)
    }

    /// Writes the first `length` bytes of the staging buffer (a multiple of the block size when
    /// direct) at the end of the file and empties it.
    private func flushStaging(length: Int) throws(StorageError) {
        var written = 0
        while written < length {
            let result = Foundation.write(fd, staging.baseAddress! + written, length - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            written += result
        }
        if !direct { _ = journeyd_start_writeback(fd, Int64(flushed), Int64(length)) }
        flushed += length
        staged = 0
    }

    /// Writes what is staged, fsyncs and closes the file; returns the hex SHA-256 of everything
    /// written.
    func finish() throws(StorageError) -> String {
        if direct {
            let padded = (staged + Self.blockSize - 1) / Self.blockSize * Self.blockSize
            (staging.baseAddress! + staged).initializeMemory(as: UInt8.self, repeating: 0, count: padded - staged)
            try flushStaging(length: padded)
            guard ftruncate(fd, off_t(bytesWritten)) == 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        } else if staged > 0 {
            try flushStaging(length: staged)
        }
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
