import CSystemSupport
import JourneyCore

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
        appendRecord(type: type, to: &buffer) { $0.raw(payload) }
    }

    /// Appends one framed record to `buffer` whose payload `encode` writes in place, after room
    /// left for the frame header, which is filled in afterwards: the payload is neither built in
    /// a buffer of its own nor copied.
    public static func appendRecord(type: WALRecordType, to buffer: inout [UInt8], payload encode: (inout BinaryWriter) -> Void) {
        let start = buffer.count
        // The writer takes the buffer over (left empty here, so it stays uniquely referenced).
        var writer = BinaryWriter(appendingTo: buffer)
        buffer = []
        writer.u32(0)
        writer.u32(0)
        writer.u8(type.rawValue)
        encode(&writer)
        // Framed through the writer, which hands the buffer back last: were the buffer written
        // while the writer still held it, it would be copied whole.
        writer.withUnsafeMutableBytes { bytes in
            let bodyLength = bytes.count - start - frameHeaderSize
            let crc = journeyd_crc32c(0, bytes.baseAddress! + start + frameHeaderSize, bodyLength)
            bytes.storeBytes(of: UInt32(bodyLength).littleEndian, toByteOffset: start, as: UInt32.self)
            bytes.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
        buffer = writer.takeBytes()
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

    /// Adds a record whose payload `encode` writes in place (`WALFormat.appendRecord(type:to:payload:)`).
    public mutating func add(_ type: WALRecordType, payload encode: (inout BinaryWriter) -> Void) {
        WALFormat.appendRecord(type: type, to: &bytes, payload: encode)
        ends.append(bytes.count)
    }

    /// Makes room for `byteCount` bytes of records in all, so that a batch whose size is
    /// known roughly (from the input it frames) is not copied as it grows.
    public mutating func reserveCapacity(bytes byteCount: Int) {
        bytes.reserveCapacity(byteCount)
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
