import Foundation
import JourneyCore
import JourneyStorage
import NIOCore
import NIOPosix
import AsyncHTTPClient
import Testing

/// Every kind of bad input gets a precise answer, loses no accepted data and leaves the daemon serving.
@Suite struct BadInputTests {
    @Test func bodiesThatAreNotJSONAreRefusedWhole() async throws {
        try await withDaemon("notjson") { _, client async throws in
            let bodies = ["", "{", "not json", #"{"batch":[1,2,]}"#, "{\"a\":1} trailing", String(repeating: "[", count: 10_000)]
            for body in bodies {
                let reply = try await client.post("/v1/batch", body)
                #expect(reply.status == 400, "\(body.prefix(20)): \(reply.text)")
                #expect(try reply.json()["success"]?.bool == false)
                #expect(reply.text.contains("not valid JSON"), "\(reply.text)")
            }
            let notObject = try await client.post("/v1/batch", "[1,2,3]")
            #expect(notObject.status == 400)
            let noBatch = try await client.post("/v1/batch", #"{"events":[]}"#)
            #expect(noBatch.status == 400)
            #expect(noBatch.text.contains("batch: expected an array"))
            #expect(try await client.post("/v1/batch", Events.batch([Events.track("Ok", userId: "still-up")])).status == 200)
        }
    }

    @Test func brokenGzipIsRefused() async throws {
        try await withDaemon("badgzip") { _, client async throws in
            let valid = Gzip.compress(Array(Events.batch([Events.track("X", userId: "u")]).utf8))
            let truncated = Array(valid.prefix(valid.count / 2))
            for (name, body) in [("garbage", Array("definitely not gzip".utf8)), ("truncated", truncated)] {
                let reply = try await client.post("/v1/batch", body, headers: [("Content-Encoding", "gzip")])
                #expect(reply.status == 400, "\(name): \(reply.text)")
                #expect(reply.text.contains("gzip"), "\(name): \(reply.text)")
            }
            let unsupported = try await client.post("/v1/batch", "{}", headers: [("Content-Encoding", "br")])
            #expect(unsupported.status == 400)
        }
    }

    @Test func oversizedBodiesAndBatchesGet413() async throws {
        try await withDaemon("toolarge", limits: "  batch_bytes: 64KiB\n  batch_events: 10\n  event_bytes: 4KiB\n") { _, client async throws in
            let big = Events.batch([Events.track("Big", userId: "u", extra: "\"properties\":{\"pad\":\"\(String(repeating: "x", count: 70_000))\"}")])
            let tooBig = try await client.post("/v1/batch", big)
            #expect(tooBig.status == 413, "\(tooBig.text)")
            // A small gzip body that inflates past the limit (a "zip bomb") is refused the same way.
            let bomb = try await client.post("/v1/batch", Array(big.utf8), gzip: true)
            #expect(bomb.status == 413, "\(bomb.text)")
            #expect(bomb.text.contains("after gunzip"))
            let eleven = Events.batch((0..<11).map { Events.track("E", userId: "u\($0)") })
            let tooMany = try await client.post("/v1/batch", eleven)
            #expect(tooMany.status == 413)
            #expect(tooMany.text.contains("11 events"))
            #expect(try await client.post("/v1/batch", Events.batch([Events.track("Ok", userId: "u")])).status == 200)
        }
    }

    @Test func invalidItemsAreNamedAndDeadLetteredWhileValidOnesAreKept() async throws {
        try await withDaemon("mixed", limits: "  event_bytes: 4KiB\n") { daemon, client async throws in
            let items = [
                Events.track("Product Viewed", userId: "keep-1"),
                #"{"type":"track","userId":"x"}"#,
                Events.track("Oversized", userId: "keep-1", extra: "\"properties\":{\"pad\":\"\(String(repeating: "y", count: 5_000))\"}"),
                #"{"type":"track","event":"Wrong","userId":{"id":1}}"#,
                #"{"type":"launch","userId":"x"}"#,
                #"{"type":"track","event":"No id","anonymousId":"null"}"#,
                #"{"type":"track","event":"Bad time","userId":"x","timestamp":"yesterday"}"#,
                "42",
                Events.track("Order Completed", userId: "keep-1"),
            ]
            let reply = try await client.post("/v1/batch", Events.batch(items))
            #expect(reply.status == 200)
            let json = try reply.json()
            #expect(json["success"]?.bool == true)
            #expect(json["accepted"]?.int == 2)
            let rejected = json["rejected"]!.elements.map { ($0["index"]!.int!, $0["error"]!.string!) }
            #expect(rejected.map(\.0) == [1, 2, 3, 4, 5, 6, 7])
            #expect(rejected[0].1.contains("event"))
            #expect(rejected[1].1.contains("over the limit"))
            #expect(rejected[2].1.contains("userId"))
            #expect(rejected[3].1.contains("type"))
            #expect(rejected[4].1.contains("no usable identifier"))
            #expect(rejected[5].1.contains("timestamp"))
            #expect(rejected[6].1.contains("object"))

            let profile = try await client.admin("/v1/profiles?type=user_id&value=keep-1").json()
            #expect(profile["touchpoints"]?.int == 2)
            let stats = try await client.admin("/v1/stats").json()
            #expect(stats["rejected"]?.int == 7)

            let files = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDirectory + "/deadletter")
            #expect(files.count == 1)
            let lines = try String(contentsOfFile: daemon.stateDirectory + "/deadletter/" + files[0], encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 7)
            let first = try JSONDocument(bytes: Array(lines[0].utf8)).root
            #expect(first["source"]?.string == "website")
            #expect(first["reason"]?.string == rejected[0].1)
            #expect(first["event"]?["userId"]?.string == "x")
            #expect(first["received_at"]?.string.flatMap(Timestamp.init(rfc3339:)) != nil)
            let attributes = try FileManager.default.attributesOfItem(atPath: daemon.stateDirectory + "/deadletter/" + files[0])
            #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o007 } == 0, "dead letters must not be world-readable")
        }
    }

    @Test func aSingleInvalidCallIsRefusedAndDeadLettered() async throws {
        try await withDaemon("single") { daemon, client async throws in
            let reply = try await client.post("/v1/track", #"{"userId":"u"}"#)
            #expect(reply.status == 400)
            #expect(reply.text.contains("event"))
            let files = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDirectory + "/deadletter")
            #expect(files.count == 1)
        }
    }

    @Test func missingUnknownOrMalformedWriteKeysGet401() async throws {
        try await withDaemon("auth") { _, client async throws in
            let body = Events.batch([Events.track("E", userId: "u")])
            let missing = try await client.post("/v1/batch", body, writeKey: nil)
            #expect(missing.status == 401)
            #expect(missing.text.contains("missing write key"))
            #expect(try await client.post("/v1/batch", body, writeKey: "nope").status == 401)
            let malformed = try await client.post("/v1/batch", body, writeKey: nil, headers: [("Authorization", "Bearer abc")])
            #expect(malformed.status == 401)
            let wrongInBody = Events.batch([Events.track("E", userId: "u")], extra: #""writeKey":"not-a-key""#)
            #expect(try await client.post("/v1/batch", wrongInBody, writeKey: nil).status == 401)
            let stats = try await client.admin("/v1/stats").json()
            #expect(stats["events"]?.int == 0)
        }
    }

    @Test func plaintextHTTPToTheTLSPortIsRefusedAtTheHandshake() async throws {
        try await withDaemon("plaintext") { daemon, client async throws in
            let request = "POST /v1/batch HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}"
            let answer = try await RawTCP.exchange(host: "127.0.0.1", port: daemon.httpPort, send: Array(request.utf8))
            #expect(!String(decoding: answer, as: UTF8.self).contains("HTTP/1.1"), "a plaintext request must not get an HTTP answer")
            #expect(daemon.isRunning)
            #expect(try await client.post("/v1/batch", Events.batch([Events.track("E", userId: "u")])).status == 200)
        }
    }
}

/// Sends raw bytes over plain TCP and collects whatever comes back until the peer closes.
enum RawTCP {
    static func exchange(host: String, port: Int, send bytes: [UInt8]) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            var received: [UInt8] = []
            for try await chunk in inbound { received += Array(buffer: chunk) }
            return received
        }
    }
}

/// Overload is answered with 503 and Retry-After, never by a growing queue.
@Suite struct OverloadTests {
    @Test func requestsPastTheInProgressLimitGet503WithRetryAfter() async throws {
        try await withDaemon("overload", limits: "  max_pending_requests: 1\n") { daemon, client async throws in
            let body = Array(Events.batch([Events.track("Slow", userId: "slow-sender")]).utf8)
            let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
            var slow = HTTPClientRequest(url: "https://\(daemon.httpAddress)/v1/batch")
            slow.method = .POST
            slow.headers.add(name: "Authorization", value: "Basic " + Data("\(DaemonProcess.writeKey):".utf8).base64EncodedString())
            slow.body = .stream(stream, length: .known(Int64(body.count)))
            // A sender that starts a request and stalls mid-body holds the only place.
            continuation.yield(ByteBuffer(bytes: body.prefix(10)))
            async let slowReply = client.client.execute(slow, timeout: .seconds(30))
            try await Self.waitForRequestsInProgress(1, client: client)

            let refused = try await client.post("/v1/batch", Events.batch([Events.track("Fast", userId: "fast-sender")]))
            #expect(refused.status == 503, "\(refused.text)")
            #expect(refused.headers.first(name: "Retry-After") == "2")
            #expect(refused.text.contains("limit of 1 requests in progress"))

            continuation.yield(ByteBuffer(bytes: body.dropFirst(10)))
            continuation.finish()
            #expect(try await slowReply.status.code == 200)
            #expect(try await client.post("/v1/batch", Events.batch([Events.track("Later", userId: "fast-sender")])).status == 200)
            try await Self.waitForRequestsInProgress(0, client: client)
        }
    }

    /// Waits (at most 10 s) until `/metrics` shows `count` tracking requests in progress.
    private static func waitForRequestsInProgress(_ count: Int, client: TrackingClient) async throws {
        let name = "journeyd_http_requests_in_progress"
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let metrics = try await client.admin("/metrics").text
            if MetricsTests.series(metrics)?[name] == Double(count) { return }
            guard ContinuousClock.now < deadline else {
                Issue.record("/metrics did not show \(name) \(count) within 10 s:\n\(metrics)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
