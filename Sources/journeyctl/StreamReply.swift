import Foundation

/// One line the stream listener writes back.
enum StreamReply: Sendable, Equatable {
    /// `{"ack":N}`: the first N event lines of this connection are settled (durable or rejected).
    case ack(Int)
    /// `{"error":"…","line":n}`: event line n (1-based) was rejected; it counts as settled.
    case rejected(line: Int, message: String)
    /// `{"error":"…"}`: the server gives up on the connection and closes it.
    case fatal(message: String)

    private struct Fields: Decodable {
        var ack: Int?
        var error: String?
        var line: Int?
    }

    /// Parses one reply line (without its `\n`); nil when it is none of the three shapes.
    init?(line: some Collection<UInt8>) {
        guard let fields = try? JSONDecoder().decode(Fields.self, from: Data(line)) else { return nil }
        switch (fields.ack, fields.error, fields.line) {
        case (let ack?, nil, nil) where ack >= 0: self = .ack(ack)
        case (nil, let message?, let line?) where line >= 1: self = .rejected(line: line, message: message)
        case (nil, let message?, nil): self = .fatal(message: message)
        default: return nil
        }
    }
}
