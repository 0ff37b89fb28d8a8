import Foundation
import Logging

/// The open segment file and the list of segments; owned by the WAL's flusher thread only.
struct SegmentWriter {
    let directory: String
    let fileSystem: WALFileSystem
    private var fd: Int32 = -1
    private var base: UInt64
    /// Bytes of the current segment known to be written completely.
    private var size: UInt64
    /// Bytes at the start of the current segment whose page cache pages were let go after a sync.
    private var releasedSize: UInt64 = 0
    private var segments: [WALReader.Segment]

    /// The log position after the last record written (segment headers do not count).
    var endLSN: UInt64 { base + size - min(size, UInt64(WALFormat.headerSize)) }

    init(directory: String, scan: WALReader.Scan, fileSystem: WALFileSystem) throws(WALError) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.segments = scan.segments
        if let last = scan.segments.last {
            base = last.base
            size = last.size
            fd = try Self.openSegment(directory + "/" + WALFormat.segmentName(base: base), create: false)
            guard lseek(fd, off_t(size), SEEK_SET) >= 0 else { throw .io(path: currentPath, reason: String(cString: strerror(errno))) }
        } else {
            base = scan.endLSN
            size = 0
            try startSegment()
        }
    }

    private var currentPath: String { directory + "/" + WALFormat.segmentName(base: base) }

    mutating func write(_ bytes: [UInt8], rotateAfter limit: UInt64) throws(WALError) {
        guard !bytes.isEmpty else { return }
        try writeAll(bytes)
        size += UInt64(bytes.count)
        if size >= limit { try rotate() }
    }

    mutating func sync() throws(WALError) {
        guard fileSystem.sync(fd) == 0 else { throw .io(path: currentPath, reason: String(cString: strerror(errno))) }
        releaseSyncedPages()
    }

    /// Lets the page cache drop the whole pages a sync just made durable, a MiB or more at a time.
    /// Nothing reads them while the daemon runs (recovery reads the files at start), so keeping
    /// them only grows the cache by the ingest rate; dropped, they are reused by the next writes.
    /// (On this project's VM a page the guest never touched costs a fault in the host: writes into
    /// fresh page cache made the WAL's `write(2)` 3× dearer while a snapshot grew the process.)
    private mutating func releaseSyncedPages() {
        let synced = size - size % Self.pageSize
        guard synced >= releasedSize + (1 << 20) else { return }
        _ = posix_fadvise(fd, off_t(releasedSize), off_t(synced - releasedSize), POSIX_FADV_DONTNEED)
        releasedSize = synced
    }

    private static let pageSize = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 4096))

    /// Cuts anything written past the last complete write (after a failed write).
    func discardPartialWrite() {
        _ = ftruncate(fd, off_t(size))
        _ = lseek(fd, off_t(size), SEEK_SET)
    }

    /// Deletes segments that end at or before `lsn`, never the open one.
    /// Forgets the segments wholly before `lsn` (never the open one) and returns their paths, for
    /// `SegmentRemover`.
    mutating func detachSegments(before lsn: UInt64) -> [String] {
        var paths: [String] = []
        while let first = segments.first, first.end <= lsn, first.base != base {
            paths.append(directory + "/" + WALFormat.segmentName(base: first.base))
            segments.removeFirst()
        }
        return paths
    }

    mutating func closeFile() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    private mutating func rotate() throws(WALError) {
        try sync()
        close(fd)
        segments[segments.count - 1].size = size
        base = endLSN
        size = 0
        try startSegment()
    }

    private mutating func startSegment() throws(WALError) {
        do {
            try StorageFiles.createDirectory(directory)
        } catch {
            throw .io(path: directory, reason: error.description)
        }
        fd = try Self.openSegment(currentPath, create: true)
        try writeAll(WALFormat.header)
        size = UInt64(WALFormat.headerSize)
        releasedSize = 0
        try sync()
        do {
            try StorageFiles.syncDirectory(directory)
        } catch {
            throw .io(path: directory, reason: error.description)
        }
        segments.append(WALReader.Segment(base: base, size: size))
    }

    private func writeAll(_ bytes: [UInt8]) throws(WALError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                fileSystem.write(fd, UnsafeRawBufferPointer(rebasing: raw[written...]))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(path: currentPath, reason: String(cString: strerror(errno)))
            }
            written += result
        }
    }

    private static func openSegment(_ path: String, create: Bool) throws(WALError) -> Int32 {
        if create {
            do {
                return try StorageFiles.openForWriting(path, flags: O_EXCL)
            } catch {
                throw .io(path: path, reason: error.description)
            }
        }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        return fd
    }
}

/// The two system calls the WAL makes on its data, behind a seam so tests can simulate a full
/// disk or a failing sync without a special file system.
public struct WALFileSystem: Sendable {
    public var write: @Sendable (Int32, UnsafeRawBufferPointer) -> Int
    public var sync: @Sendable (Int32) -> Int32

    public init(write: @escaping @Sendable (Int32, UnsafeRawBufferPointer) -> Int, sync: @escaping @Sendable (Int32) -> Int32) {
        self.write = write
        self.sync = sync
    }

    public static let posix = WALFileSystem(
        write: { fd, buffer in Foundation.write(fd, buffer.baseAddress, buffer.count) },
        sync: { fd in fdatasync(fd) })
}
