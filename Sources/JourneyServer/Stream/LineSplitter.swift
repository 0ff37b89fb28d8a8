import Foundation

/// Cuts a connection's byte stream into lines: `\n`-terminated, a `\r` before the `\n` dropped,
/// each at most `maxLineBytes` long (line ending not counted). A line over the limit is reported
/// once, with its length, and skipped up to its `\n` without being held in memory, so the
/// connection goes on with the next line.
///
/// Each call copies the complete lines of what it is given into one buffer, back to back, and
/// reports where each lies in it, so that a chunk's lines cost one allocation (and can be parsed
/// onto one tape, `JSONLines`) instead of one each.
///
/// A value owned by one connection's task. Bytes after the last `\n` wait for the next call;
/// if the connection ends first they are `pendingBytes`, a partial line that is never stored.
struct LineSplitter {
    enum Line: Equatable {
        /// Where the line's bytes lie in the call's buffer (line ending dropped).
        case complete(Range<Int>)
        case tooLong(bytes: Int)
    }

    let maxLineBytes: Int
    private var partial: [UInt8] = []
    /// Inside an over-long line: its bytes so far are counted, not kept.
    private var skippedBytes: Int?

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes of an unterminated line held (or skipped) so far.
    var pendingBytes: Int { skippedBytes ?? partial.count }

    /// Bytes of an unterminated line held in memory: at most `maxLineBytes + 1`, however long
    /// the line it is skipping.
    var heldBytes: Int { partial.count }

    /// Emits the lines that `bytes` completes, in order; a complete line's bytes are appended
    /// to `lineBytes`.
    mutating func split(_ bytes: UnsafeRawBufferPointer, into lineBytes: inout [UInt8], _ emit: (Line) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        while start < bytes.count {
            let remaining = bytes.count - start
            guard let found = memchr(base + start, 0x0A, remaining) else {
                hold(UnsafeRawBufferPointer(rebasing: bytes[start...]))
                return
            }
            let end = base.distance(to: UnsafeRawPointer(found))
            finishLine(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), into: &lineBytes, emit)
            start = end + 1
        }
    }

    /// Keeps the start of a line whose `\n` has not arrived yet (one spare byte for a `\r`).
    private mutating func hold(_ bytes: UnsafeRawBufferPointer) {
        if let skipped = skippedBytes {
            skippedBytes = skipped + bytes.count
        } else if partial.count + bytes.count > maxLineBytes + 1 {
            skippedBytes = partial.count + bytes.count
            partial = []
        } else {
            partial.append(contentsOf: bytes)
        }
    }

    private mutating func finishLine(_ tail: UnsafeRawBufferPointer, into lineBytes: inout [UInt8], _ emit: (Line) -> Void) {
        if let skipped = skippedBytes {
            skippedBytes = nil
            emit(.tooLong(bytes: skipped + tail.count))
            return
        }
        var length = partial.count + tail.count
        let endsWithCR = (tail.last ?? partial.last) == UInt8(ascii: "\r")
        if endsWithCR { length -= 1 }
        if length > maxLineBytes {
            partial.removeAll(keepingCapacity: true)
            emit(.tooLong(bytes: length))
            return
        }
        let start = lineBytes.count
        lineBytes.append(contentsOf: partial)
        lineBytes.append(contentsOf: tail)
        partial.removeAll(keepingCapacity: true)
        if endsWithCR { lineBytes.removeLast() }
        emit(.complete(start..<(start + length)))
    }
}
