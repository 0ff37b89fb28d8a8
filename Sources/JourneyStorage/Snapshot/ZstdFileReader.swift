import CZstd

/// Streams the decompressed bytes of a zstd file (the recovery checkpoint) in chunks of up to
/// 1 MiB. Owned by one thread.
final class ZstdFileReader {
    let path: String
    private let context: OpaquePointer
    private let file: FileBlockReader
    /// The block being decompressed (a slice of the block reader's buffer): `input[inputOffset...]`.
    private var input: ArraySlice<UInt8> = []
    private var inputOffset = 0
    private var output = [UInt8](repeating: 0, count: 1 << 20)
    /// What zstd last said it still needs to finish the current frame (0 between frames).
    private var frameRemaining = 0
    private var sawData = false

    init(path: String) throws(StorageError) {
        self.path = path
        file = try FileBlockReader(path: path)
        guard let context = ZSTD_createDCtx() else {
            throw .cannotOpen(path: path, reason: "zstd could not allocate a decompression context")
        }
        self.context = context
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// The next chunk of decompressed bytes, or nil at the end of the file. The slice is only
    /// valid until the next call.
    func nextChunk() throws(StorageError) -> ArraySlice<UInt8>? {
        while true {
            if inputOffset == input.count {
                input = []
                let block = try file.next()
                guard !block.isEmpty else {
                    guard sawData else { throw .readFailed(path: path, reason: "the file is empty (not a zstd frame)") }
                    guard frameRemaining == 0 else { throw .readFailed(path: path, reason: "zstd data ends early (truncated file)") }
                    return nil
                }
                input = block
                inputOffset = 0
                sawData = true
            }
            let (status, consumed, produced) = input.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { destination in
                    var inBuffer = ZSTD_inBuffer(src: source.baseAddress! + inputOffset, size: source.count - inputOffset, pos: 0)
                    var outBuffer = ZSTD_outBuffer(dst: destination.baseAddress, size: destination.count, pos: 0)
                    let status = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                    return (status, inBuffer.pos, outBuffer.pos)
                }
            }
            guard ZSTD_isError(status) == 0 else {
                throw .readFailed(path: path, reason: "not valid zstd data (" + String(cString: ZSTD_getErrorName(status)) + ")")
            }
            inputOffset += consumed
            frameRemaining = status
            if produced > 0 { return output[0..<produced] }
        }
    }
}
