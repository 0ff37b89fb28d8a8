import Foundation
import Logging

/// Reads the log back at start: every record after a position, in order, repairing a torn tail.
///
/// Runs before the writer opens the log, on the starting task; it owns the files while it runs.
public enum WALReader {
    /// What a scan found.
    public struct Scan: Sendable, Equatable {
        /// Segment bases and sizes after repair, in order.
        public var segments: [Segment]
        /// The position after the last good record (where the writer continues).
        public var endLSN: UInt64
        public var recordsRead: Int
        /// Bytes cut from the end of the last segment (a torn write), if any.
        public var bytesCut: Int
        /// Records dropped because they were damaged (only with `skipCorrupt`).
        public var recordsSkipped: Int
    }

    /// One segment file: `base` is the log position of its first record, `size` the file's size.
    public struct Segment: Sendable, Equatable {
        public var base: UInt64
        public var size: UInt64
        /// The log position after its last record (headers are not part of the log's positions).
        public var end: UInt64 { base + size - min(size, UInt64(WALFormat.headerSize)) }
    }

    /// Lists segment files in order, checking that each starts where the previous one ends.
    public static func segments(in directory: String) throws(WALError) -> [Segment] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            return []
        }
        var segments: [Segment] = []
        for (base, name) in names.compactMap({ name in WALFormat.segmentBase(fileName: name).map { ($0, name) } }).sorted(by: { $0.0 < $1.0 }) {
            let path = directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
            if let previous = segments.last, previous.end != base {
                throw .missingSegment(expectedBase: previous.end, found: name)
            }
            segments.append(Segment(base: base, size: UInt64(info.st_size)))
        }
        return segments
    }

    /// Calls `body` with every record ending after `after`, in log order. A damaged tail of the
    /// last segment is truncated away (logged with file, offset and bytes); damage anywhere else
    /// stops with `.corrupt`, unless `skipCorrupt`, which drops the damaged record (or the rest of
    /// its segment when its length cannot be trusted) and goes on.
    public static func replay(
        directory: String, after: UInt64, skipCorrupt: Bool = false, logger: Logger,
        body: (WALRecord) throws -> Void
    ) throws -> Scan {
        try scan(directory: directory, after: after, skipCorrupt: skipCorrupt, repair: true, logger: logger, body: body)
    }

    /// Like `replay`, but never changes a file: a damaged tail is reported in the result, not cut
    /// (for inspection tools that may run beside the daemon).
    public static func read(directory: String, after: UInt64, body: (WALRecord) throws -> Void) throws -> Scan {
        try scan(directory: directory, after: after, skipCorrupt: true, repair: false, logger: Logger(label: "wal-reader", factory: { _ in SwiftLogNoOpLogHandler() }), body: body)
    }

    private static func scan(
        directory: String, after: UInt64, skipCorrupt: Bool, repair: Bool, logger: Logger,
        body: (WALRecord) throws -> Void
    ) throws -> Scan {
        var segments = try segments(in: directory)
        var scan = Scan(segments: [], endLSN: segments.last?.end ?? 0, recordsRead: 0, bytesCut: 0, recordsSkipped: 0)
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            guard segment.end > after || isLast else { continue }
            let path = directory + "/" + WALFormat.segmentName(base: segment.base)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw WALError.io(path: path, reason: "cannot read")
            }
            let bytes = [UInt8](data)
            guard bytes.count >= WALFormat.headerSize, Array(bytes[0..<8]) == WALFormat.magic else {
                if isLast && bytes.count < WALFormat.headerSize {
                    // A segment created just before a crash, header not fully written: nothing in it was acknowledged.
                    logger.warning("WAL tail cut", metadata: ["file": "\(path)", "offset": "0", "bytes_cut": "\(bytes.count)"])
                    if repair, unlink(path) != 0 { throw WALError.io(path: path, reason: String(cString: strerror(errno))) }
                    segments.removeLast()
                    scan.bytesCut += bytes.count
                    scan.endLSN = segment.base
                    break
                }
                throw WALError.badHeader(path: path)
            }
            var offset = WALFormat.headerSize
            while offset < bytes.count {
                let problem: String
                frame: do {
                    guard bytes.count - offset >= WALFormat.frameHeaderSize else { problem = "partial record header"; break frame }
                    let length = Int(readU32(bytes, at: offset))
                    let crc = readU32(bytes, at: offset + 4)
                    if length == 0 && bytes[offset...].allSatisfy({ $0 == 0 }) { problem = "zero-filled tail"; break frame }
                    guard length >= 1, length <= WALFormat.maxRecordBytes else { problem = "impossible record length \(length)"; break frame }
                    guard bytes.count - offset - WALFormat.frameHeaderSize >= length else { problem = "record runs past the end of the file"; break frame }
                    let bodyStart = offset + WALFormat.frameHeaderSize
                    let bodyEnd = bodyStart + length
                    guard WALFormat.crc32c(bytes[bodyStart..<bodyEnd]) == crc else {
                        if isLast && bodyEnd == bytes.count { problem = "checksum mismatch in the last record"; break frame }
                        guard skipCorrupt else {
                            throw WALError.corrupt(path: path, offset: offset, reason: "checksum mismatch")
                        }
                        logger.error("WAL record skipped", metadata: ["file": "\(path)", "offset": "\(offset)", "reason": "checksum mismatch"])
                        scan.recordsSkipped += 1
                        offset = bodyEnd
                        continue
                    }
                    guard let type = WALRecordType(rawValue: bytes[bodyStart]) else {
                        guard skipCorrupt else { throw WALError.corrupt(path: path, offset: offset, reason: "unknown record type \(bytes[bodyStart])") }
                        scan.recordsSkipped += 1
                        offset = bodyEnd
                        continue
                    }
                    let endLSN = segment.base + UInt64(bodyEnd - WALFormat.headerSize)
                    if endLSN > after {
                        try body(WALRecord(type: type, payload: bytes[(bodyStart + 1)..<bodyEnd], endLSN: endLSN))
                        scan.recordsRead += 1
                    }
                    offset = bodyEnd
                    continue
                }
                // A damaged record: a torn tail if this is the end of the log, corruption otherwise.
                guard isLast || skipCorrupt else {
                    throw WALError.corrupt(path: path, offset: offset, reason: problem)
                }
                let cut = bytes.count - offset
                logger.warning(
                    isLast ? "WAL tail cut" : "WAL segment rest skipped",
                    metadata: ["file": "\(path)", "offset": "\(offset)", "bytes_cut": "\(cut)", "reason": "\(problem)"])
                if isLast {
                    if repair { try truncate(path, to: offset) }
                    scan.bytesCut += cut
                    segments[index].size = UInt64(offset)
                    scan.endLSN = segment.base + UInt64(offset - WALFormat.headerSize)
                } else {
                    scan.recordsSkipped += 1
                }
                break
            }
        }
        scan.segments = segments
        return scan
    }

    private static func readU32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    private static func truncate(_ path: String, to size: Int) throws(WALError) {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0, fsync(fd) == 0 else {
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
