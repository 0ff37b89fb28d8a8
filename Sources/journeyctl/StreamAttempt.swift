import NIOCore

/// What one connection attempt of `journeyctl load` sends and how.
struct StreamAttemptPlan: Sendable {
    /// The event lines, in order, in write-sized chunks.
    var chunks: [StreamCorpus.Chunk]
    var lineCount: Int
    /// `{"writeKey":"…"}\n`, written before the events when the client has no certificate.
    var authLine: ByteBuffer?
    /// False for `--no-acks`: done when the last write completed and the connection closed.
    var waitsForAcks: Bool
    /// Most bytes written but not yet covered by an ack.
    var windowBytes: Int
    /// The attempt fails when neither an ack nor a completed write arrives for this long.
    var stallTimeout: TimeAmount
    /// Most lines per second to write, counted from the handshake (nil: no pacing).
    var linesPerSecond: Double?
    var progress: SendProgress?
}

/// How one connection attempt ended, reported by `StreamLoadHandler` when its channel closes.
struct StreamAttemptOutcome: Sendable {
    var handshakeCompleted = false
    /// Every line settled (acks mode) or written and the connection closed cleanly (`--no-acks`).
    var settledAll = false
    var linesAcked = 0
    var rejectedLines = 0
    var firstRejection: String?
    /// The server's fatal `{"error":"…"}` line, if it sent one.
    var serverError: String?
    /// What went wrong on this side (TLS error, stall, protocol violation), if anything.
    var failure: String?
    var violatedProtocol = false
    /// Per settled write: nanoseconds from its flush to the ack covering its last line.
    var ackLatencies: [UInt64] = []
    /// `NIODeadline.uptimeNanoseconds` of the final ack (acks mode) or of the close (`--no-acks`).
    var finishedAt: UInt64?

    /// Why the attempt ended before settling everything, in words.
    var endReason: String {
        var parts: [String] = []
        if let serverError { parts.append("the server said \"\(serverError)\"") }
        if let failure { parts.append(failure) }
        if parts.isEmpty { parts.append("the server closed the connection") }
        if rejectedLines > 0, let firstRejection {
            parts.append("\(rejectedLines) lines rejected, the first: \(firstRejection)")
        }
        return parts.joined(separator: "; ")
    }
}
