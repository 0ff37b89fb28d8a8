import CIsal
import JourneyCore

/// The gzip member layout of snapshot files: every file is a series of gzip members (RFC 1952
/// allows any number; gzip, zcat, Python, DuckDB and Spark read them as one stream), each holding
/// at most `maxMemberBytes` uncompressed. Bounded members let whole-buffer codecs handle files of
/// any size: ISA-L compresses each member in one call, libdeflate decompresses each in one call.
enum GzipMembers {
    /// A member is compressed once this many bytes are buffered.
    static let targetMemberBytes = 1 << 20
    /// No member holds more than this uncompressed; readers size their buffers by it.
    static let maxMemberBytes = 4 << 20
}

/// Streams NDJSON rows into a gzip file of bounded members (`GzipMembers`), counting rows.
/// Rows are written straight into `rowBuffer` (`JSONRowSink`), which gathers the member being
/// built. Owned by one thread.
///
/// Members are compressed by ISA-L's `igzip` (Debian's `libisal-dev`) at level 1 (level 0 is
/// barely faster and a quarter larger): on snapshot NDJSON it runs about twice as fast as
/// libdeflate's fastest level for output about 6 % larger (docs/ARCHITECTURE.md), and deflate is
/// the largest cost of a snapshot.
final class GzipFileWriter: JSONRowSink {
    let name: String
    /// The rows of the member being gathered; the last one may be incomplete until `endRow`.
    var rowBuffer = JSONWriter(capacity: GzipMembers.maxMemberBytes)
    /// ISA-L's working memory for level 1, reused for every member.
    private var levelBuffer = [UInt8](repeating: 0, count: Int(journeyd_isal_level1_buffer_size()))
    private let sink: HashingFileSink
    private var output: [UInt8] = []
    /// Bytes of `rowBuffer` that are whole rows (each with its newline).
    private var completeBytes = 0
    private var membersWritten = 0
    private(set) var rows = 0

    init(directory: String, name: String, pacer: SnapshotPacer? = nil) throws(StorageError) {
        self.name = name
        sink = try HashingFileSink(path: directory + "/" + name, pacer: pacer)
    }

    /// Ends the row just written (adds its newline). A member ends on a row boundary unless a
    /// single row is larger than a member; such a row is cut wherever members fill up.
    func endRow() throws(StorageError) {
        let rowStart = completeBytes
        rowBuffer.newline()
        rows += 1
        completeBytes = rowBuffer.bytes.count
        if completeBytes > GzipMembers.maxMemberBytes {
            if rowStart > 0 { try compressMember(0..<rowStart) }
            for start in stride(from: rowStart, to: completeBytes, by: GzipMembers.maxMemberBytes) {
                try compressMember(start..<min(completeBytes, start + GzipMembers.maxMemberBytes))
            }
            rowBuffer.reset()
            completeBytes = 0
        } else if completeBytes >= GzipMembers.targetMemberBytes {
            try compressBuffered()
        }
    }

    /// Compresses what is buffered (an empty file still gets one empty member, so it is valid
    /// gzip), fsyncs and closes the file.
    func finish() throws(StorageError) -> WrittenFile {
        if completeBytes > 0 || membersWritten == 0 { try compressBuffered() }
        let digest = try sink.finish()
        return WrittenFile(name: name, bytes: sink.bytesWritten, rows: rows, sha256: digest)
    }

    /// Compresses the whole rows buffered as one member and empties the buffer.
    private func compressBuffered() throws(StorageError) {
        try compressMember(0..<completeBytes)
        rowBuffer.reset()
        completeBytes = 0
    }

    /// Compresses `range` of `rowBuffer` as one gzip member and writes it.
    private func compressMember(_ range: Range<Int>) throws(StorageError) {
        // Stateless deflate never expands data by more than its stored-block headers (5 bytes per
        // 64 KiB) plus the gzip header and trailer.
        let bound = range.count + range.count / 8 + 4096
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let (status, produced) = rowBuffer.bytes.withUnsafeBytes { buffered in
            let input = UnsafeRawBufferPointer(rebasing: buffered[range])
            return output.withUnsafeMutableBytes { destination in
                levelBuffer.withUnsafeMutableBytes { working in
                    var stream = isal_zstream()
                    isal_deflate_stateless_init(&stream)
                    stream.gzip_flag = UInt16(IGZIP_GZIP)
                    stream.level = 1
                    stream.level_buf = working.baseAddress?.assumingMemoryBound(to: UInt8.self)
                    stream.level_buf_size = UInt32(working.count)
                    stream.end_of_stream = 1
                    stream.flush = UInt16(NO_FLUSH)
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
                    stream.avail_in = UInt32(input.count)
                    stream.next_out = destination.baseAddress?.assumingMemoryBound(to: UInt8.self)
                    stream.avail_out = UInt32(destination.count)
                    let status = isal_deflate_stateless(&stream)
                    return (status, Int(stream.total_out))
                }
            }
        }
        guard status == COMP_OK else {
            throw .writeFailed(path: sink.path, reason: "ISA-L could not compress a member (status \(status))")
        }
        membersWritten += 1
        try sink.write(output, count: produced)
    }
}
