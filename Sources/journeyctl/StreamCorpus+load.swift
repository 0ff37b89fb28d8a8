import Foundation
import JourneyStorage

extension StreamCorpus {
    /// The most a gzip corpus may inflate to before it is refused rather than exhausting memory.
    static let maxDecompressedBytes = 32 << 30

    /// Reads an NDJSON file, plain or gzip (told apart by the gzip magic bytes, not the name),
    /// into memory through a `StreamCorpusBuilder`. A plain file is streamed in pieces straight
    /// into the corpus blocks; a gzip file is inflated whole first.
    static func load(path: String) throws(StreamLoadError) -> StreamCorpus {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .corpusUnreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .corpusUnreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .corpusUnreadable(path: path, reason: "not a regular file") }

        var builder = StreamCorpusBuilder()
        var compressed: [UInt8]?
        var piece = [UInt8](repeating: 0, count: StreamCorpusBuilder.blockBytes)
        var isFirstPiece = true
        while true {
            let count = piece.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .corpusUnreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            if isFirstPiece, count >= 2, piece.starts(with: [0x1f, 0x8b]) {
                compressed = []
                compressed?.reserveCapacity(Int(status.st_size))
            }
            isFirstPiece = false
            if compressed != nil {
                compressed?.append(contentsOf: piece[..<count])
            } else {
                piece.withUnsafeBytes { builder.append(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            }
        }
        if let compressed {
            let text: [UInt8]
            do {
                text = try Gzip.decompress(compressed, maxOutputBytes: maxDecompressedBytes)
            } catch {
                throw .corpusUnreadable(path: path, reason: error.description)
            }
            text.withUnsafeBytes { builder.append($0) }
        }
        let corpus = builder.finish()
        guard corpus.lineCount > 0 else { throw .corpusEmpty(path: path) }
        return corpus
    }
}
