import Hummingbird
import JourneyCore
import NIOCore

/// The query and admin API (separate listener, loopback by default): `/healthz` and `/readyz`
/// open; `/v1/*` only with `Authorization: Bearer <admin token>`.
///
/// Immutable and `Sendable`; reads go to the `IngestEngine`, readiness to `Readiness`, and each
/// request checks the admin token in force (a reload may change it).
struct AdminAPIController: Sendable {
    let live: LiveConfiguration
    let engine: IngestEngine
    let snapshotter: Snapshotter
    let readiness: Readiness

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in Self.text("ok\n", status: .ok) }
        router.get("/readyz") { _, _ in
            readiness.isReady ? Self.text("ready\n", status: .ok) : Self.text("not ready\n", status: .serviceUnavailable)
        }
        let data = router.group("/v1").add(middleware: BearerTokenMiddleware(live: live))
        data.get("/profiles/:profileID") { request, context in
            let id = context.parameters.get("profileID") ?? ""
            let page = try Self.page(request)
            guard let body = await engine.profileJSON(id: id, after: page.after, limit: page.limit) else {
                return IngestResponse.refused(.notFound, "no profile with id \(id)")
            }
            return IngestResponse.json(body, status: .ok)
        }
        data.get("/profiles") { request, _ in
            let query = request.uri.queryParameters
            guard let typeName = query["type"].map(String.init), let value = query["value"].map(String.init) else {
                return IngestResponse.refused(.badRequest, "give ?type=<identifier type>&value=<value>")
            }
            let configuration = live.current.configuration
            let type = IdentifierType(rawValue: typeName)
            guard configuration.identity.priority.contains(type) else {
                let known = configuration.identity.priority.map(\.rawValue).joined(separator: ", ")
                return IngestResponse.refused(.badRequest, "unknown identifier type \(typeName) (known: \(known))")
            }
            let page = try Self.page(request)
            guard let identifier = configuration.identifierNormaliser.normalise(value, as: type),
                let body = await engine.profileJSON(identifier: identifier, after: page.after, limit: page.limit)
            else {
                return IngestResponse.refused(.notFound, "no profile has that \(typeName)")
            }
            return IngestResponse.json(body, status: .ok)
        }
        data.post("/snapshots") { _, _ in
            do {
                let snapshot = try await snapshotter.take()
                return IngestResponse.json(snapshot.manifest.encoded(name: snapshot.name), status: .ok)
            } catch let error as IngestEngine.Unavailable {
                return IngestResponse.refused(.serviceUnavailable, error.description, headers: [.retryAfter: IngestResponse.retryAfterSeconds])
            } catch {
                return IngestResponse.refused(.internalServerError, "snapshot failed: \(error)")
            }
        }
        data.get("/stats") { _, _ in
            let stats = await engine.stats()
            let last = await snapshotter.last
            var writer = JSONWriter()
            writer.beginObject()
            for (key, value) in [
                ("events", stats.stitcher.eventsStored), ("duplicates", stats.stitcher.duplicates),
                ("profiles", stats.profiles), ("identifiers", stats.identifiers), ("touchpoints", stats.touchpoints),
                ("merges", stats.stitcher.merges), ("blocked_merges", stats.stitcher.blockedMerges),
                ("links_refused", stats.stitcher.linksRefused), ("rejected", stats.rejected),
                ("touchpoints_dropped_over_cap", stats.stitcher.touchpointsDroppedOverCap),
            ] {
                writer.key(key)
                writer.int(value)
            }
            writer.key("wal")
            if let wal = stats.wal {
                writer.beginObject()
                writer.key("appended_position")
                writer.int(Int(wal.appendedLSN))
                writer.key("durable_position")
                writer.int(Int(wal.durableLSN))
                writer.key("bytes_written")
                writer.int(Int(wal.bytesWritten))
                writer.key("syncs")
                writer.int(Int(wal.syncs))
                writer.key("error")
                if let failure = wal.failure { writer.string(failure) } else { writer.null() }
                writer.endObject()
            } else {
                writer.null()
            }
            writer.key("last_snapshot")
            if let last {
                writer.beginObject()
                writer.key("name")
                writer.string(last.name)
                writer.key("created_at")
                writer.string(last.manifest.createdAt.description)
                writer.key("wal_position")
                writer.int(Int(last.manifest.walPosition))
                writer.key("duration_ms")
                writer.int(Int(last.durationMilliseconds))
                writer.endObject()
            } else {
                writer.null()
            }
            writer.endObject()
            return IngestResponse.json(writer.bytes, status: .ok)
        }
    }

    private static func page(_ request: Request) throws -> (after: Int, limit: Int) {
        let query = request.uri.queryParameters
        let after = try query["after"].map { text -> Int in
            guard let value = Int(text), value >= 0 else { throw HTTPError(.badRequest, message: "after must be a whole number ≥ 0") }
            return value
        } ?? 0
        let limit = try query["limit"].map { text -> Int in
            guard let value = Int(text), (1...ProfileEncoder.maxJourneyPageSize).contains(value) else {
                throw HTTPError(.badRequest, message: "limit must be from 1 to \(ProfileEncoder.maxJourneyPageSize)")
            }
            return value
        } ?? ProfileEncoder.defaultJourneyPageSize
        return (after, limit)
    }

    private static func text(_ body: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Lets a request through only with `Authorization: Bearer <token>`, the admin token in force
/// when the request arrives (compared in constant time).
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let live: LiveConfiguration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let token = live.current.configuration.listeners.adminToken
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            ConstantTime.equals(Array(header.dropFirst("Bearer ".count).utf8), Array(token.utf8))
        else {
            return IngestResponse.refused(.unauthorized, "admin endpoints need Authorization: Bearer <admin token>")
        }
        return try await next(request, context)
    }
}
