import CDeflate

/// The gzip member layout of snapshot files: every file is a series of gzip members (RFC 1952
/// allows any number; gzip, zcat, Python, DuckDB and Spark read them as one stream), each holding
/// at most `maxMemberBytes` uncompressed. Bounded members let libdeflate, which compresses and
/// decompresses whole buffers at two to three times zlib's speed, handle files of any size.
enum GzipMembers {
    /// A member is compressed once this many bytes are buffered.
    static let targetMemberBytes = 1 << 20
    /// No member holds more than this uncompressed; readers size their buffers by it.
    static let maxMemberBytes = 4 << 20
}

/// Streams NDJSON rows into a gzip file of bounded members (`GzipMembers`), counting rows.
/// Owned by one thread.
final class GzipFileWriter {
    let name: String
    private let compressor: OpaquePointer
    private let sink: HashingFileSink
    private var output: [UInt8] = []
    private var input: [UInt8] = []
    private var membersWritten = 0
    private(set) var rows = 0

    /// - Parameter level: libdeflate level (1–12); 1 is several times faster than zlib's default
    ///   and compresses NDJSON about as well as zlib's level 6.
    init(directory: String, name: String, level: Int32 = 1) throws(StorageError) {
        self.name = name
        sink = try HashingFileSink(path: directory + "/" + name)
        guard let compressor = libdeflate_alloc_compressor(level) else {
            throw .writeFailed(path: sink.path, reason: "libdeflate could not allocate a compressor")
        }
        self.compressor = compressor
        input.reserveCapacity(GzipMembers.maxMemberBytes)
    }

    deinit {
        libdeflate_free_compressor(compressor)
    }

    /// Appends one NDJSON row (the JSON object; the newline is added here). A member ends on a row
    /// boundary unless a single row is larger than a member.
    func appendRow(_ json: [UInt8]) throws(StorageError) {
        if input.count + json.count + 1 > GzipMembers.maxMemberBytes { try compressMember() }
        if json.count + 1 > GzipMembers.maxMemberBytes {
            try append(json)
        } else {
            input.append(contentsOf: json)
        }
        input.append(UInt8(ascii: "\n"))
        rows += 1
        if input.count >= GzipMembers.targetMemberBytes { try compressMember() }
    }

    /// Appends the bytes of a row larger than a member; members end wherever they fill up.
    private func append(_ bytes: [UInt8]) throws(StorageError) {
        var start = 0
        while start < bytes.count {
            let take = min(bytes.count - start, GzipMembers.maxMemberBytes - input.count)
            input.append(contentsOf: bytes[start..<(start + take)])
            start += take
            if input.count >= GzipMembers.targetMemberBytes { try compressMember() }
        }
    }

    /// Compresses what is buffered (an empty file still gets one empty member, so it is valid
    /// gzip), fsyncs and closes the file.
    func finish() throws(StorageError) -> WrittenFile {
        if !input.isEmpty || membersWritten == 0 { try compressMember() }
        let digest = try sink.finish()
        return WrittenFile(name: name, bytes: sink.bytesWritten, rows: rows, sha256: digest)
    }

    private func compressMember() throws(StorageError) {
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let produced = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                libdeflate_gzip_compress(compressor, source.baseAddress, source.count, destination.baseAddress, destination.count)
            }
        }
        guard produced > 0 else { throw .writeFailed(path: sink.path, reason: "libdeflate could not compress a member") }
        input.removeAll(keepingCapacity: true)
        membersWritten += 1
        try sink.write(output, count: produced)
    }
}
