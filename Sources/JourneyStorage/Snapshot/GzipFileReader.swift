import CDeflate
import Foundation

/// Streams the decompressed bytes of a snapshot gzip file member by member (`GzipMembers`), so
/// large files are read with bounded memory at libdeflate's speed. Owned by one thread.
final class GzipFileReader {
    let path: String
    private let decompressor: OpaquePointer
    private let file: FileBlockReader
    /// Compressed bytes read but not yet decompressed: `input[inputOffset...]`.
    private var input: [UInt8] = []
    private var inputOffset = 0
    /// File offset of `input[0]`.
    private var inputFileOffset = 0
    private var membersRead = 0
    private var output = [UInt8](repeating: 0, count: GzipMembers.maxMemberBytes)
    /// Called with every block of raw (compressed) bytes read from the file, in order; lets a
    /// verifier hash the file in the same pass that decompresses it.
    var rawBytesObserver: ((ArraySlice<UInt8>) -> Void)? {
        get { file.observer }
        set { file.observer = newValue }
    }

    /// A whole member of `maxMemberBytes` compresses to at most this much (deflate's worst case
    /// adds 5 bytes per 64 KiB stored block, plus the gzip header and trailer).
    private static let readAhead = GzipMembers.maxMemberBytes + GzipMembers.maxMemberBytes / 16 + 4096

    init(path: String) throws(StorageError) {
        self.path = path
        file = try FileBlockReader(path: path)
        guard let decompressor = libdeflate_alloc_decompressor() else {
            throw .cannotOpen(path: path, reason: "libdeflate could not allocate a decompressor")
        }
        self.decompressor = decompressor
    }

    deinit {
        libdeflate_free_decompressor(decompressor)
    }

    /// The decompressed bytes of the next non-empty member, or nil at the end of the file. The
    /// slice is only valid until the next call (drop it before calling again to avoid a copy).
    func nextChunk() throws(StorageError) -> ArraySlice<UInt8>? {
        while true {
            try fillInput()
            guard inputOffset < input.count else {
                guard membersRead > 0 else { throw .readFailed(path: path, reason: "the file is empty (not even an empty gzip member)") }
                return nil
            }
            var consumed = 0
            var produced = 0
            let result = input.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { destination in
                    libdeflate_gzip_decompress_ex(
                        decompressor, source.baseAddress! + inputOffset, source.count - inputOffset,
                        destination.baseAddress, destination.count, &consumed, &produced)
                }
            }
            let memberOffset = inputFileOffset + inputOffset
            switch result {
            case LIBDEFLATE_SUCCESS:
                inputOffset += consumed
                membersRead += 1
                if produced > 0 { return output[0..<produced] }
            case LIBDEFLATE_INSUFFICIENT_SPACE:
                throw .readFailed(
                    path: path,
                    reason: "the gzip member at byte \(memberOffset) holds more than \(GzipMembers.maxMemberBytes) bytes; "
                        + "journeyd writes smaller members (was the file recompressed by another tool?)")
            default:
                let reason = file.atEndOfFile && input.count - inputOffset < Self.readAhead ? "corrupt or truncated" : "corrupt"
                throw .readFailed(path: path, reason: "not valid gzip at byte \(memberOffset) (\(reason) data)")
            }
        }
    }

    /// Reads the rest of the file (passing it to the observer), e.g. after a problem inside the
    /// file, so a verifier can still compare the whole file's checksum.
    func readToEnd() throws(StorageError) {
        inputOffset = input.count
        while !file.atEndOfFile {
            _ = try file.next()
        }
    }

    /// Keeps at least one whole member's worth of compressed bytes buffered, unless the file ends.
    private func fillInput() throws(StorageError) {
        guard !file.atEndOfFile, input.count - inputOffset < Self.readAhead else { return }
        if inputOffset > 0 {
            input.removeSubrange(0..<inputOffset)
            inputFileOffset += inputOffset
            inputOffset = 0
        }
        while !file.atEndOfFile, input.count < Self.readAhead {
            input.append(contentsOf: try file.next())
        }
    }
}
