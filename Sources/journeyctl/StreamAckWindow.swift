import NIOCore

/// The bookkeeping of one connection's writes that the server has not acknowledged yet: how many
/// bytes are in flight (so the sender keeps at most `limitBytes` outstanding) and, per ack, which
/// writes it settles and how long each waited.
///
/// A plain value with no I/O: owned by one `StreamLoadHandler` and used on its event loop only.
struct StreamAckWindow {
    enum Violation: Error, CustomStringConvertible {
        case ackWentBack(from: Int, to: Int)
        case ackPastWritten(ack: Int, written: Int)

        var description: String {
            switch self {
            case .ackWentBack(let from, let to): return "ack went back from \(from) to \(to)"
            case .ackPastWritten(let ack, let written): return "ack \(ack) is past the \(written) lines written"
            }
        }
    }

    private struct Write {
        /// Lines written up to and including this write.
        var endLine: Int
        var bytes: Int
        /// `NIODeadline.uptimeNanoseconds` when it was flushed.
        var flushedAt: UInt64
    }

    let limitBytes: Int
    private(set) var bytesInFlight = 0
    private(set) var linesWritten = 0
    private(set) var linesAcked = 0
    private var writes = CircularBuffer<Write>()

    init(limitBytes: Int) {
        self.limitBytes = limitBytes
    }

    /// Whether a write of `bytes` fits; with nothing in flight any write fits, so a window
    /// smaller than one chunk still makes progress.
    func admits(_ bytes: Int) -> Bool {
        bytesInFlight == 0 || bytesInFlight + bytes <= limitBytes
    }

    mutating func recordWrite(lines: Int, bytes: Int, flushedAt: UInt64) {
        linesWritten += lines
        bytesInFlight += bytes
        writes.append(Write(endLine: linesWritten, bytes: bytes, flushedAt: flushedAt))
    }

    /// Applies `{"ack":ack}` received at `now`; appends the wait of every write it settles
    /// completely (flush to this ack, in nanoseconds) to `latencies`.
    mutating func applyAck(_ ack: Int, at now: UInt64, latencies: inout [UInt64]) throws(Violation) {
        guard ack >= linesAcked else { throw .ackWentBack(from: linesAcked, to: ack) }
        guard ack <= linesWritten else { throw .ackPastWritten(ack: ack, written: linesWritten) }
        linesAcked = ack
        while let first = writes.first, first.endLine <= ack {
            writes.removeFirst()
            bytesInFlight -= first.bytes
            latencies.append(now &- first.flushedAt)
        }
    }
}
