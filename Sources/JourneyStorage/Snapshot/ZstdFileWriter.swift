import CZstd

/// Writes a zstd file (with zstd's content checksum) as a series of frames, one per `append`.
/// Used for the recovery checkpoint, journeyd's private file, where zstd compresses several times
/// faster than deflate and decompresses faster still. Owned by one thread.
///
/// Each chunk is compressed in one call (`ZSTD_compress2`), which reads it in place; streaming
/// compression would first copy every byte into zstd's window. A frame's back-references stop at
/// its own start, which costs little at the chunk sizes the checkpoint uses (about 1 MiB). Zstd
/// readers (`ZstdFileReader`, the `zstd` tool) read the frames as one stream.
final class ZstdFileWriter {
    let name: String
    private let context: OpaquePointer
    private let sink: HashingFileSink
    private var output: [UInt8] = []
    private var frames = 0

    /// - Parameter level: zstd level; -2 (a "fast" level) compresses about 1.6 times faster than
    ///   level 1 for a file about 40 % larger, the better trade for a file written every snapshot
    ///   and read only at recovery.
    init(directory: String, name: String, level: Int32 = -2, pacer: SnapshotPacer? = nil) throws(StorageError) {
        self.name = name
        sink = try HashingFileSink(path: directory + "/" + name, pacer: pacer)
        guard let context = ZSTD_createCCtx() else {
            throw .writeFailed(path: sink.path, reason: "zstd could not allocate a compression context")
        }
        self.context = context
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    /// Compresses `bytes` as one frame and writes it.
    func append(_ bytes: [UInt8]) throws(StorageError) {
        let bound = ZSTD_compressBound(bytes.count)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let produced = bytes.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                ZSTD_compress2(context, destination.baseAddress, destination.count, source.baseAddress, source.count)
            }
        }
        guard ZSTD_isError(produced) == 0 else {
            throw .writeFailed(path: sink.path, reason: "zstd: " + String(cString: ZSTD_getErrorName(produced)))
        }
        frames += 1
        try sink.write(output, count: produced)
    }

    /// Fsyncs and closes the file. A file that got no bytes still gets one (empty) frame, so that
    /// it is valid zstd.
    func finish() throws(StorageError) -> WrittenFile {
        if frames == 0 { try append([]) }
        let digest = try sink.finish()
        return WrittenFile(name: name, bytes: sink.bytesWritten, rows: 0, sha256: digest)
    }
}
