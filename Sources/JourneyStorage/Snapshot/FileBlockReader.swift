import Crypto
import Foundation

/// Reads a file front to back in blocks of up to 1 MiB into one reused buffer (no allocation per
/// block), telling an optional observer about every block (a verifier hashes the file in the same
/// pass that decompresses it). Owned by one thread.
final class FileBlockReader {
    let path: String
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private(set) var atEndOfFile = false
    var observer: ((ArraySlice<UInt8>) -> Void)?

    init(path: String) throws(StorageError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit {
        close(fd)
    }

    /// The next block, or an empty block once the file has ended. The slice is only valid until
    /// the next call (drop it before calling again to avoid a copy).
    func next() throws(StorageError) -> ArraySlice<UInt8> {
        guard !atEndOfFile else { return [] }
        var count = 0
        repeat {
            count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        } while count < 0 && errno == EINTR
        guard count >= 0 else { throw .readFailed(path: path, reason: String(cString: strerror(errno))) }
        guard count > 0 else {
            atEndOfFile = true
            return []
        }
        observer?(buffer[0..<count])
        return buffer[0..<count]
    }

    /// Size and SHA-256 of a whole file.
    static func digest(of path: String) throws(StorageError) -> (size: Int, sha256: SHA256.Digest) {
        let reader = try FileBlockReader(path: path)
        var hasher = SHA256()
        var size = 0
        while true {
            let block = try reader.next()
            if block.isEmpty { break }
            hasher.update(data: block)
            size += block.count
        }
        return (size, hasher.finalize())
    }
}
