import Hummingbird
import JourneyCore
import NIOCore

/// The JSON answers of the tracking API.
///
/// Success is exactly HTTP 200 (some SDKs retry anything else): `{"success":true,"accepted":N,
/// "duplicates":D,"rejected":[{"index":i,"error":"…"}]}`. Refusals of a whole request carry
/// `{"success":false,"error":"…"}` with 400, 401 or 413.
enum IngestResponse {
    struct Rejection {
        var index: Int
        var error: String
    }

    static func accepted(accepted: Int, duplicates: Int, rejected: [Rejection]) -> Response {
        var writer = JSONWriter(capacity: 64 + rejected.count * 64)
        writer.beginObject()
        writer.key("success")
        writer.bool(true)
        writer.key("accepted")
        writer.int(accepted)
        writer.key("duplicates")
        writer.int(duplicates)
        writer.key("rejected")
        writer.beginArray()
        for rejection in rejected {
            writer.beginObject()
            writer.key("index")
            writer.int(rejection.index)
            writer.key("error")
            writer.string(rejection.error)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return json(writer.bytes, status: .ok)
    }

    /// What a 503 answer asks the sender to wait before retrying.
    static let retryAfterSeconds = "2"

    static func refused(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var writer = JSONWriter(capacity: 64 + message.utf8.count)
        writer.beginObject()
        writer.key("success")
        writer.bool(false)
        writer.key("error")
        writer.string(message)
        writer.endObject()
        return json(writer.bytes, status: status, headers: headers)
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
