import CSystemSupport

/// The on-disk format of the write-ahead log.
///
/// A log is a directory of segment files named by the log position (LSN) of their first record,
/// 20 decimal digits + `.wal`. LSNs count record bytes across the whole log (segment headers are
/// not counted): a record's LSN is where it ends, so "everything up to LSN n" is a prefix of the
/// log, and a segment's file name is the previous segment's end. Each segment starts with a 16-byte
/// header: the magic `JDWAL001`, a little-endian u32 format version and 4 reserved bytes. Records
/// follow back to back:
///
///     u32 length   (of type + payload, little-endian)
///     u32 crc32c   (Castagnoli, of type + payload)
///     u8  type     (1 = event, 2 = operation: an erasure or split)
///     payload
///
/// Invariants: records are only ever appended; a record is acknowledged only once it is written
/// (and, with `fsync` durability, synced); on open, a torn or corrupt tail of the last segment is
/// cut at the last good record.
public enum WALFormat {
    public static let magic: [UInt8] = Array("JDWAL001".utf8)
    public static let version: UInt32 = 1
    public static let headerSize = 16
    public static let frameHeaderSize = 8
    /// Largest record accepted when reading; anything larger is treated as corruption.
    public static let maxRecordBytes = 64 << 20

    public static var header: [UInt8] {
        var bytes = magic
        withUnsafeBytes(of: version.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [0, 0, 0, 0])
        return bytes
    }

    public static func segmentName(base: UInt64) -> String {
        let digits = String(base)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".wal"
    }

    public static func segmentBase(fileName: String) -> UInt64? {
        guard fileName.hasSuffix(".wal"), fileName.count == 24 else { return nil }
        return UInt64(fileName.dropLast(4))
    }

    /// Appends one framed record to `buffer`. The payload is a concrete array, so that callers in
    /// other modules copy it with one `memcpy` rather than through an unspecialised generic.
    public static func appendRecord(type: WALRecordType, payload: [UInt8], to buffer: inout [UInt8]) {
        let bodyLength = UInt32(1 + payload.count)
        withUnsafeBytes(of: bodyLength.littleEndian) { buffer.append(contentsOf: $0) }
        let crcOffset = buffer.count
        withUnsafeBytes(of: UInt32(0)) { buffer.append(contentsOf: $0) }
        buffer.append(type.rawValue)
        buffer.append(contentsOf: payload)
        let crc = buffer.withUnsafeBufferPointer { journeyd_crc32c(0, $0.baseAddress! + crcOffset + 4, Int(bodyLength)) }
        buffer.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: crcOffset, as: UInt32.self) }
    }

    public static func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { journeyd_crc32c(0, $0.baseAddress, $0.count) }
    }
}

/// Records framed for one `WriteAheadLog.append` call. A value type built by one task; records
/// can be framed ahead of time, by the task that produced them, and a subset of them logged.
public struct WALBatch: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Where each record ends in `bytes`.
    private var ends: [Int] = []

    public init() {}

    public var count: Int { ends.count }

    public mutating func add(_ type: WALRecordType, payload: [UInt8]) {
        WALFormat.appendRecord(type: type, payload: payload, to: &bytes)
        ends.append(bytes.count)
    }

    /// The records at `indices` (positions in this batch, ascending, each at most once), framed as
    /// they are here; all of them is this batch itself.
    public func records(at indices: [Int]) -> WALBatch {
        if indices.count == count { return self }
        var subset = WALBatch()
        for index in indices {
            subset.bytes.append(contentsOf: bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]])
            subset.ends.append(subset.bytes.count)
        }
        return subset
    }
}

/// What a WAL record holds.
public enum WALRecordType: UInt8, Sendable {
    /// One accepted event (`NormalisedEvent` binary encoding).
    case event = 1
    /// An operator's erasure or split (`RecordedOperation` binary encoding).
    case operation = 2
}

/// One record read back from the log.
public struct WALRecord: Sendable {
    public var type: WALRecordType
    public var payload: ArraySlice<UInt8>
    /// The log position just after this record.
    public var endLSN: UInt64
}
