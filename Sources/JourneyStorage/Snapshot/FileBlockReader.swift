import Foundation

/// Reads a file front to back in blocks of up to 1 MiB, telling an optional observer about every
/// block (a verifier hashes the file in the same pass that decompresses it). Owned by one thread.
final class FileBlockReader {
    let path: String
    private let handle: FileHandle
    private(set) var atEndOfFile = false
    var observer: ((Data) -> Void)?

    init(path: String) throws(StorageError) {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .cannotOpen(path: path, reason: "missing or unreadable")
        }
        self.handle = handle
    }

    deinit {
        try? handle.close()
    }

    /// The next block, or an empty block once the file has ended.
    func next() throws(StorageError) -> Data {
        guard !atEndOfFile else { return Data() }
        let data: Data?
        do {
            data = try handle.read(upToCount: 1 << 20)
        } catch {
            throw .readFailed(path: path, reason: systemErrorDescription(error))
        }
        guard let data, !data.isEmpty else {
            atEndOfFile = true
            return Data()
        }
        observer?(data)
        return data
    }
}
