import CZlib

/// gzip compression and bounded decompression over the system zlib.
///
/// Stateless; safe to call from any task. Decompression stops as soon as the output would pass
/// `maxOutputBytes`, so a small "zip bomb" body cannot make the daemon allocate without bound.
public enum Gzip {
    /// Inflates a gzip (or zlib) stream, including several concatenated gzip members.
    public static func decompress(_ input: [UInt8], maxOutputBytes: Int) throws(GzipError) -> [UInt8] {
        guard !input.isEmpty else { throw .invalidData("empty body") }
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .invalidData("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var result: Int32 = Z_OK
        var consumed = 0
        while true {
            let step: (status: Int32, read: Int, produced: Int) = input.withUnsafeBufferPointer { inputBuffer in
                chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress! + consumed)
                    stream.avail_in = UInt32(inputBuffer.count - consumed)
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = UInt32(chunkBuffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, inputBuffer.count - consumed - Int(stream.avail_in), chunkBuffer.count - Int(stream.avail_out))
                }
            }
            result = step.status
            consumed += step.read
            if output.count + step.produced > maxOutputBytes {
                throw .outputTooLarge(limit: maxOutputBytes)
            }
            output.append(contentsOf: chunk[0..<step.produced])
            switch result {
            case Z_STREAM_END:
                guard consumed < input.count else { return output }
                // Another gzip member follows (allowed by RFC 1952).
                guard inflateReset(&stream) == Z_OK else { throw .invalidData("zlib could not reset") }
            case Z_OK:
                if step.read == 0 && step.produced == 0 && consumed >= input.count {
                    throw .invalidData("the gzip stream ends early (truncated body?)")
                }
            case Z_BUF_ERROR:
                if consumed >= input.count { throw .invalidData("the gzip stream ends early (truncated body?)") }
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(result)"
                throw .invalidData(message)
            }
        }
    }

    /// Compresses `input` as one gzip member.
    public static func compress(_ input: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 16: write a gzip header and trailer.
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            preconditionFailure("zlib deflateInit2 failed: out of memory")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        let written: Int = input.withUnsafeBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
                stream.avail_in = UInt32(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = UInt32(outputBuffer.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate with a deflateBound-sized buffer must finish")
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(written...)
        return output
    }
}

/// Why a gzip body could not be used.
public enum GzipError: Error, Equatable, CustomStringConvertible {
    case invalidData(String)
    case outputTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .invalidData(let reason): return "body is not valid gzip: \(reason)"
        case .outputTooLarge(let limit): return "body is larger than \(limit) bytes after gunzip"
        }
    }
}
