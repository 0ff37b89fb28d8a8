import AsyncHTTPClient
import Foundation
import JourneyCore
import JourneyStorage
import NIOCore
import NIOHTTP1
import NIOSSL

/// An HTTPS client for the tests: trusts only the test CA, speaks HTTP/1.1 or HTTP/2.
struct TrackingClient {
    struct Reply {
        var status: Int
        var body: [UInt8]
        var headers: HTTPHeaders
        var version: HTTPVersion
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body parsed with the project's JSON parser (fails the test if it is not JSON).
        func json() throws -> JSONValue { try JSONDocument(bytes: body).root }
    }

    enum Version { case http1, http2 }

    let client: HTTPClient
    let daemon: DaemonProcess
    /// Where the tracking API is sent: the daemon's HTTPS listener unless given.
    let httpAddress: String

    init(daemon: DaemonProcess, version: Version = .http1, httpAddress: String? = nil) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(daemon.certificates.caCertificate)
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = version == .http1 ? .http1Only : .automatic
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.daemon = daemon
        self.httpAddress = httpAddress ?? daemon.httpAddress
    }

    func shutdown() async throws {
        try await client.shutdown()
    }

    /// POSTs to the tracking API. `writeKey` goes in HTTP Basic auth unless nil.
    func post(
        _ path: String, _ body: String, writeKey: String? = DaemonProcess.writeKey, gzip: Bool = false, headers extra: [(String, String)] = []
    ) async throws -> Reply {
        try await post(path, Array(body.utf8), writeKey: writeKey, gzip: gzip, headers: extra)
    }

    func post(_ path: String, _ body: [UInt8], writeKey: String? = DaemonProcess.writeKey, gzip: Bool = false, headers extra: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: "https://\(httpAddress)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let writeKey {
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(writeKey):".utf8).base64EncodedString())
        }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if gzip {
            request.headers.add(name: "Content-Encoding", value: "gzip")
            request.body = .bytes(ByteBuffer(bytes: Gzip.compress(body)))
        } else {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return try await execute(request)
    }

    /// Calls the admin API (plain HTTP on loopback) with the admin token unless nil.
    func admin(_ pathAndQuery: String, method: HTTPMethod = .GET, token: String? = DaemonProcess.adminToken, body: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://\(daemon.adminAddress)\(pathAndQuery)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        return try await execute(request)
    }

    private func execute(_ request: HTTPClientRequest) async throws -> Reply {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), body: Array(buffer: body), headers: response.headers, version: response.version)
    }
}

/// Small builders for Segment-shaped JSON in tests.
enum Events {
    static func track(_ event: String, userId: String? = nil, anonymousId: String? = nil, messageId: String = UUID().uuidString, extra: String = "") -> String {
        var fields = ["\"type\":\"track\"", "\"event\":\"\(event)\"", "\"messageId\":\"\(messageId)\""]
        if let userId { fields.append("\"userId\":\"\(userId)\"") }
        if let anonymousId { fields.append("\"anonymousId\":\"\(anonymousId)\"") }
        if !extra.isEmpty { fields.append(extra) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func batch(_ items: [String], extra: String = "") -> String {
        "{\"batch\":[" + items.joined(separator: ",") + "]" + (extra.isEmpty ? "" : "," + extra) + "}"
    }
}

/// Runs `body` against a freshly started daemon and a client for it; always stops both.
func withDaemon<T>(
    _ label: String, version: TrackingClient.Version = .http1, limits: String = "", extraConfig: String = "",
    _ body: (DaemonProcess, TrackingClient) async throws -> T
) async throws -> T {
    let daemon = try await DaemonProcess.start(label: label, extraConfig: extraConfig, limits: limits)
    let client: TrackingClient
    do {
        client = try TrackingClient(daemon: daemon, version: version)
    } catch {
        await daemon.stop()
        throw error
    }
    do {
        let result = try await body(daemon, client)
        try await client.shutdown()
        await daemon.stop()
        return result
    } catch {
        try? await client.shutdown()
        await daemon.stop()
        throw error
    }
}
