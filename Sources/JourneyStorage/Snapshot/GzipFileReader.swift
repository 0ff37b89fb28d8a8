import CZlib
import Foundation

/// Streams the decompressed bytes of a gzip file in chunks, so large snapshot files are read
/// with bounded memory. Owned by one task.
final class GzipFileReader {
    let path: String
    private var stream = z_stream()
    private let handle: FileHandle
    private var input: [UInt8] = []
    private var inputOffset = 0
    private var ended = false
    /// Called with every block of raw (compressed) bytes read from the file, in order; lets a
    /// verifier hash the file in the same pass that decompresses it.
    var rawBytesObserver: ((Data) -> Void)?

    init(path: String) throws(StorageError) {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .cannotOpen(path: path, reason: "missing or unreadable")
        }
        self.handle = handle
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .cannotOpen(path: path, reason: "zlib could not start")
        }
    }

    deinit {
        inflateEnd(&stream)
        try? handle.close()
    }

    /// The next chunk of decompressed bytes, or nil at the end of the file.
    func nextChunk() throws(StorageError) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: 1 << 20)
        while !ended {
            if inputOffset == input.count {
                let data: Data?
                do {
                    data = try handle.read(upToCount: 1 << 20)
                } catch {
                    throw .readFailed(path: path, reason: systemErrorDescription(error))
                }
                guard let data, !data.isEmpty else {
                    throw .readFailed(path: path, reason: "gzip data ends early (truncated file)")
                }
                rawBytesObserver?(data)
                input = [UInt8](data)
                inputOffset = 0
            }
            var status: Int32 = Z_OK
            let (produced, consumed): (Int, Int) = input.withUnsafeMutableBufferPointer { inputBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    stream.next_in = inputBuffer.baseAddress! + inputOffset
                    stream.avail_in = UInt32(inputBuffer.count - inputOffset)
                    stream.next_out = outputBuffer.baseAddress
                    stream.avail_out = UInt32(outputBuffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return (outputBuffer.count - Int(stream.avail_out), inputBuffer.count - inputOffset - Int(stream.avail_in))
                }
            }
            inputOffset += consumed
            switch status {
            case Z_STREAM_END:
                ended = true
            case Z_OK, Z_BUF_ERROR:
                break
            default:
                throw .readFailed(path: path, reason: "not valid gzip (\(Self.describe(status: status, message: stream.msg)))")
            }
            if produced > 0 {
                output.removeSubrange(produced...)
                return output
            }
        }
        return nil
    }

    /// After the gzip stream ended: reads the rest of the file (passing it to the observer) and
    /// returns how many bytes follow the end of the gzip stream (0 for a well-formed file).
    func readToEnd() throws(StorageError) -> Int {
        var trailing = input.count - inputOffset
        inputOffset = input.count
        while true {
            let data: Data?
            do {
                data = try handle.read(upToCount: 1 << 20)
            } catch {
                throw .readFailed(path: path, reason: systemErrorDescription(error))
            }
            guard let data, !data.isEmpty else { return trailing }
            rawBytesObserver?(data)
            trailing += data.count
        }
    }

    private static func describe(status: Int32, message: UnsafePointer<CChar>?) -> String {
        let text = message.map { String(cString: $0) } ?? ""
        switch status {
        case Z_DATA_ERROR: return text.isEmpty ? "corrupt data" : "corrupt data: \(text)"
        case Z_MEM_ERROR: return "out of memory"
        default: return text.isEmpty ? "zlib status \(status)" : "zlib status \(status): \(text)"
        }
    }

    /// Calls `body` with each newline-terminated line (without the newline).
    func forEachLine(_ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var carry: [UInt8] = []
        while let chunk = try nextChunk() {
            var start = 0
            for index in chunk.indices where chunk[index] == UInt8(ascii: "\n") {
                if carry.isEmpty {
                    try body(chunk[start..<index])
                } else {
                    carry.append(contentsOf: chunk[start..<index])
                    try body(carry[...])
                    carry.removeAll(keepingCapacity: true)
                }
                start = index + 1
            }
            carry.append(contentsOf: chunk[start...])
        }
        if !carry.isEmpty { try body(carry[...]) }
    }
}
