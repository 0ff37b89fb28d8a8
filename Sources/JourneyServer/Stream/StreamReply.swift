import JourneyCore
import NIOCore

/// The lines the stream listener writes back, one JSON object each:
/// `{"ack":N}` — the first N event lines of this connection are settled (durable, or rejected);
/// `{"error":"…","line":n}` — event line n was rejected (and written to the dead-letter file);
/// `{"error":"…"}` — the connection cannot go on and is closed after this line.
enum StreamReply {
    static func ack(_ lines: Int, into buffer: inout ByteBuffer) {
        buffer.writeString("{\"ack\":\(lines)}\n")
    }

    static func rejected(line: Int, error: String, into buffer: inout ByteBuffer) {
        var writer = JSONWriter(capacity: 48 + error.utf8.count)
        writer.beginObject()
        writer.key("error")
        writer.string(error)
        writer.key("line")
        writer.int(line)
        writer.endObject()
        writer.newline()
        buffer.writeBytes(writer.bytes)
    }

    static func fatal(_ error: String, into buffer: inout ByteBuffer) {
        var writer = JSONWriter(capacity: 32 + error.utf8.count)
        writer.beginObject()
        writer.key("error")
        writer.string(error)
        writer.endObject()
        writer.newline()
        buffer.writeBytes(writer.bytes)
    }
}
