/// A write-ahead-log problem, naming the file and offset so an operator can act on it.
public enum WALError: Error, Equatable, CustomStringConvertible {
    case io(path: String, reason: String)
    case badHeader(path: String)
    case corrupt(path: String, offset: Int, reason: String)
    case missingSegment(expectedBase: UInt64, found: String)
    /// Writing failed (for example the disk is full); acknowledgements wait until it works again.
    case unavailable(reason: String)
    case closed

    public var description: String {
        switch self {
        case .io(let path, let reason): return "WAL I/O error on \(path): \(reason)"
        case .badHeader(let path): return "\(path) is not a journeyd WAL segment (bad header)"
        case .corrupt(let path, let offset, let reason):
            return "WAL corrupt in \(path) at offset \(offset): \(reason); start with --wal-skip-corrupt to drop the damaged record and continue"
        case .missingSegment(let base, let found):
            return "WAL segment starting at position \(base) is missing (next file is \(found))"
        case .unavailable(let reason): return "the write-ahead log cannot be written: \(reason)"
        case .closed: return "the write-ahead log is closed"
        }
    }
}
