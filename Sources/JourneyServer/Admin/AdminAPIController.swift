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
            let identifier = try identifier(from: request)
            let page = try Self.page(request)
            guard let identifier, let body = await engine.profileJSON(identifier: identifier, after: page.after, limit: page.limit) else {
                return IngestResponse.refused(.notFound, "no profile has that identifier")
            }
            return IngestResponse.json(body, status: .ok)
        }
        data.delete("/profiles/:profileID") { request, context in
            let text = context.parameters.get("profileID") ?? ""
            guard let id = ProfileID(text) else { return IngestResponse.refused(.notFound, "no profile with id \(text)") }
            return await perform(.erase(id, suppress: try Self.suppress(request)))
        }
        data.delete("/profiles") { request, _ in
            guard let identifier = try identifier(from: request) else {
                return IngestResponse.refused(.notFound, "no profile has that identifier")
            }
            return await perform(.eraseIdentifier(identifier, suppress: try Self.suppress(request)))
        }
        data.post("/profiles/:profileID/split") { request, context in
            let text = context.parameters.get("profileID") ?? ""
            guard let id = ProfileID(text) else { return IngestResponse.refused(.notFound, "no profile with id \(text)") }
            let body = try await request.body.collect(upTo: 64 * 1024)
            return await perform(try splitOperation(profile: id, body: Array(buffer: body)))
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
                ("re_resolutions", stats.stitcher.reResolutions), ("re_resolved_touchpoints", stats.stitcher.reResolvedTouchpoints),
                ("erasures", stats.stitcher.erasures), ("suppressed_identifiers", stats.suppressedIdentifiers),
                ("splits", stats.stitcher.splits),
            ] {
                writer.key(key)
                writer.int(value)
            }
            let shared = await engine.sharedIdentifiers(limit: Self.sharedIdentifiersListed)
            writer.key("shared_identifiers")
            writer.beginObject()
            writer.key("count")
            writer.int(shared.total)
            writer.key("latest")
            writer.beginArray()
            for entry in shared.list { entry.write(into: &writer) }
            writer.endArray()
            writer.endObject()
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

    /// How many of the most recently flagged shared identifiers `/v1/stats` lists (the snapshot's
    /// `shared_identifiers.jsonl.gz` has them all).
    static let sharedIdentifiersListed = 100

    /// The identifier of `?type=…&value=…`, normalised as ingest does; nil when the value
    /// normalises to nothing (no profile can have it). Throws 400 for a missing or unknown type.
    private func identifier(from request: Request) throws -> Identifier? {
        let query = request.uri.queryParameters
        guard let typeName = query["type"].map(String.init), let value = query["value"].map(String.init) else {
            throw HTTPError(.badRequest, message: "give ?type=<identifier type>&value=<value>")
        }
        return try Self.identifier(type: typeName, value: value, configuration: live.current.configuration)
    }

    private static func identifier(type typeName: String, value: String, configuration: JourneydConfiguration) throws -> Identifier? {
        let type = IdentifierType(rawValue: typeName)
        guard configuration.identity.priority.contains(type) else {
            let known = configuration.identity.priority.map(\.rawValue).joined(separator: ", ")
            throw HTTPError(.badRequest, message: "unknown identifier type \(typeName) (known: \(known))")
        }
        return configuration.identifierNormaliser.normalise(value, as: type)
    }

    /// `?suppress=true|false` (default false).
    private static func suppress(_ request: Request) throws -> Bool {
        switch request.uri.queryParameters["suppress"].map(String.init) {
        case nil, "false": return false
        case "true": return true
        case let other?: throw HTTPError(.badRequest, message: "suppress must be true or false, is \(other)")
        }
    }

    /// The body of `POST /v1/profiles/{id}/split`: `{"identifier":{"type":…,"value":…}}` declares
    /// that identifier shared; `{"merge":"p_…"}` undoes the merge that absorbed that id.
    private func splitOperation(profile: ProfileID, body: [UInt8]) throws -> StitcherOperation {
        let usage = #"give {"identifier":{"type":"<type>","value":"<value>"}} or {"merge":"<absorbed profile id>"}"#
        guard let root = try? JSONDocument(bytes: body).root, root.kind == .object else {
            throw HTTPError(.badRequest, message: "body is not a JSON object: \(usage)")
        }
        switch (root["identifier"], root["merge"]) {
        case (let identifier?, nil):
            guard let type = identifier["type"]?.string, let value = identifier["value"]?.string else {
                throw HTTPError(.badRequest, message: usage)
            }
            guard let normalised = try Self.identifier(type: type, value: value, configuration: live.current.configuration) else {
                throw HTTPError(.conflict, message: "that \(type) value is not a usable identifier (empty or on the blocklist)")
            }
            return .splitSharing(profile, normalised)
        case (nil, let merge?):
            guard let text = merge.string, let from = ProfileID(text) else {
                throw HTTPError(.badRequest, message: "merge must be a profile id (p_ and 16 hex digits): \(usage)")
            }
            return .splitUndoingMerge(profile, from: from)
        default:
            throw HTTPError(.badRequest, message: usage)
        }
    }

    /// Runs an erasure or split through the engine and answers once it is durable in the WAL.
    private func perform(_ operation: StitcherOperation) async -> Response {
        let result: StitcherOperationResult
        do {
            let (performed, receipt) = try await engine.perform(operation)
            try await receipt.waitDurable()
            result = performed
        } catch let refusal as IngestEngine.OperationRefusal {
            switch refusal {
            case .refused(.notFound(let message)): return IngestResponse.refused(.notFound, message)
            case .refused(.conflict(let message)): return IngestResponse.refused(.conflict, message)
            case .unavailable(let reason):
                return IngestResponse.refused(.serviceUnavailable, reason.description, headers: [.retryAfter: IngestResponse.retryAfterSeconds])
            }
        } catch {
            return IngestResponse.refused(.serviceUnavailable, "\(error)", headers: [.retryAfter: IngestResponse.retryAfterSeconds])
        }
        var writer = JSONWriter()
        writer.beginObject()
        switch result {
        case .erased(let erasure):
            writer.key("erased")
            writer.string(erasure.profileID.description)
            writer.field("touchpoints", erasure.touchpoints)
            writer.field("identifiers", erasure.identifiers)
            writer.field("suppressed", erasure.suppressed)
        case .split(let split):
            writer.key("split")
            writer.string(split.profileID.description)
            writer.key("profiles")
            writer.beginArray()
            for id in split.profiles { writer.string(id.description) }
            writer.endArray()
        }
        writer.endObject()
        return IngestResponse.json(writer.bytes, status: .ok)
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
