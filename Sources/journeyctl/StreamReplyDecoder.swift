import NIOCore

/// Splits the stream listener's replies into lines and parses each into a `StreamReply`.
///
/// Lives in one channel's pipeline and runs on its event loop only. Bounded: a line longer than
/// `maxLineBytes`, or one that is not a reply, is an error (the handler behind closes the
/// connection), so a misbehaving peer cannot make the client buffer without limit.
struct StreamReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = StreamReply

    enum DecodingError: Error, CustomStringConvertible {
        case lineTooLong(limit: Int)
        case notAReply(String)

        var description: String {
            switch self {
            case .lineTooLong(let limit): return "a reply line is longer than \(limit) bytes"
            case .notAReply(let text): return "unexpected reply line \(text)"
            }
        }
    }

    let maxLineBytes: Int

    init(maxLineBytes: Int = 64 * 1024) {
        self.maxLineBytes = maxLineBytes
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maxLineBytes { throw DecodingError.lineTooLong(limit: maxLineBytes) }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard length <= maxLineBytes else { throw DecodingError.lineTooLong(limit: maxLineBytes) }
        let line = buffer.readableBytesView[buffer.readerIndex..<newline]
        let content = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        buffer.moveReaderIndex(forwardBy: length + 1)
        if content.isEmpty { return .continue }
        guard let reply = StreamReply(line: content) else {
            throw DecodingError.notAReply(String(decoding: content.prefix(200), as: UTF8.self))
        }
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
