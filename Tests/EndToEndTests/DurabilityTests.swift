import Foundation
import JourneyCore
import JourneyStorage
import Synchronization
import Testing

/// Nothing acknowledged is lost: kill -9 under load, torn WAL tails, clean restarts, damaged snapshots.
@Suite struct DurabilityTests {
    /// Restarts `daemon` expecting it to refuse: records `unexpected` if it started, expects a
    /// non-zero exit otherwise and returns its log (nil if it started).
    static func refusedRestart(_ daemon: DaemonProcess, _ unexpected: Comment) async throws -> String? {
        do {
            let started = try await daemon.restart()
            await started.stop(keepFiles: true)
            Issue.record(unexpected)
            return nil
        } catch let error as DaemonProcess.DaemonError {
            guard case .exited(let status, let log) = error else { throw error }
            #expect(status != 0)
            return log
        }
    }

    /// Every message id in the newest snapshot's touchpoint files, with how often it occurs.
    static func storedMessageIDs(_ daemon: DaemonProcess, snapshot manifest: JSONValue) throws -> [String: Int] {
        let store = SnapshotStore(stateDirectory: daemon.stateDirectory)
        let name = try #require(store.latestName)
        var counts: [String: Int] = [:]
        for file in manifest["files"]!.elements {
            let fileName = file["name"]!.string!
            guard fileName.hasPrefix("touchpoints") else { continue }
            let compressed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: store.directory + "/" + name + "/" + fileName)))
            let text = try Gzip.decompress(compressed, maxOutputBytes: 1 << 30)
            for line in text.split(separator: UInt8(ascii: "\n")) {
                let row = try JSONDocument(bytes: Array(line)).root
                counts[row["message_id"]!.string!, default: 0] += 1
            }
        }
        return counts
    }

    static func snapshot(_ client: TrackingClient) async throws -> JSONValue {
        var request = try await client.admin("/v1/snapshots", method: .POST)
        if request.status == 503 {
            try await Task.sleep(for: .milliseconds(200))
            request = try await client.admin("/v1/snapshots", method: .POST)
        }
        #expect(request.status == 200, "\(request.text)")
        return try request.json()
    }

    @Test func killDashNineUnderLoadLosesNoAcknowledgedEventAndDoublesNone() async throws {
        let daemon = try await DaemonProcess.start(label: "crash")
        let client = try TrackingClient(daemon: daemon, version: .http2)
        let acknowledged = MessageLedger()
        let sent = MessageLedger()
        let killAfter = Duration.milliseconds(Int64.random(in: 100...800))
        // Four senders post 50-event batches until the daemon dies under them.
        await withTaskGroup(of: Void.self) { group in
            for sender in 0..<4 {
                group.addTask {
                    var batchNumber = 0
                    while true {
                        let ids = (0..<50).map { "s\(sender)-b\(batchNumber)-\($0)" }
                        batchNumber += 1
                        let items = ids.map { Events.track("Product Viewed", userId: "user-\($0.hashValue & 0x3ff)", messageId: $0) }
                        sent.add(ids)
                        guard let reply = try? await client.post("/v1/batch", Events.batch(items)) else { return }
                        if reply.status == 200 { acknowledged.add(ids) }
                    }
                }
            }
            // Kill at a random moment once acknowledgements flow (a loaded machine may need a
            // while for the first TLS handshakes).
            let deadline = ContinuousClock.now + .seconds(30)
            while acknowledged.ids.isEmpty, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            try? await Task.sleep(for: killAfter)
            daemon.kill()
        }
        try await client.shutdown()
        let acked = acknowledged.ids
        #expect(acked.count > 0, "no batch was acknowledged before the kill")

        let restarted = try await daemon.restart()
        let after = try TrackingClient(daemon: restarted)
        let manifest = try await Self.snapshot(after)
        let stored = try Self.storedMessageIDs(restarted, snapshot: manifest)
        let missing = acked.subtracting(stored.keys)
        #expect(missing.isEmpty, "\(missing.count) acknowledged events lost, e.g. \(missing.prefix(3))")
        let doubled = stored.filter { $0.value > 1 }
        #expect(doubled.isEmpty, "stored twice: \(doubled.prefix(3))")
        #expect(Set(stored.keys).isSubset(of: sent.ids))
        try await after.shutdown()
        await restarted.stop()
    }

    /// The arena's next blocks are mapped ahead by one idle-priority thread that lives as long as
    /// the daemon serves, so the engine's single writer does not take their page faults.
    @Test func payloadMemoryIsMappedAheadOnOneIdlePriorityThread() async throws {
        try await withDaemon("payloadmemory") { daemon, client async throws in
            let items = (0..<200).map { Events.track("Viewed", userId: "u\($0 % 20)", extra: #""properties":{"pad":"\#(String(repeating: "x", count: 1_000))"}"#) }
            #expect(try await client.post("/v1/batch", Events.batch(items)).status == 200)
            let threads = daemon.threads
            let mapping = threads.filter { $0.name == "payload-memory" }
            #expect(mapping.count == 1 && mapping.allSatisfy { $0.policy == 5 }, "threads: \(threads)")
        }
    }

    @Test func aTornWALTailIsCutAndLoggedAtRestart() async throws {
        let daemon = try await DaemonProcess.start(label: "torn")
        let client = try TrackingClient(daemon: daemon)
        let items = (0..<20).map { Events.track("Product Viewed", userId: "torn-user", messageId: "torn-\($0)") }
        #expect(try await client.post("/v1/batch", Events.batch(items)).status == 200)
        try await client.shutdown()
        daemon.kill()
        // A crash in the middle of a write leaves part of a record behind.
        let walDirectory = daemon.stateDirectory + "/wal"
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: walDirectory).sorted().last)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: walDirectory + "/" + segment))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0x40, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]))
        try handle.close()

        let restarted = try await daemon.restart()
        let after = try TrackingClient(daemon: restarted)
        #expect(restarted.log.contains("msg=\"WAL tail cut\""), "\(restarted.log)")
        #expect(restarted.log.contains("bytes_cut=10"))
        let profile = try await after.admin("/v1/profiles?type=user_id&value=torn-user").json()
        #expect(profile["touchpoints"]?.int == 20)
        try await after.shutdown()
        await restarted.stop()
    }

    @Test func corruptionInTheMiddleOfTheWALStopsTheStartUnlessSkipped() async throws {
        let daemon = try await DaemonProcess.start(label: "corrupt")
        let client = try TrackingClient(daemon: daemon)
        for batch in 0..<3 {
            let items = (0..<10).map { Events.track("Product Viewed", userId: "c-user", messageId: "c-\(batch)-\($0)") }
            #expect(try await client.post("/v1/batch", Events.batch(items)).status == 200)
        }
        try await client.shutdown()
        daemon.kill()
        let walDirectory = daemon.stateDirectory + "/wal"
        let segment = walDirectory + "/" + (try FileManager.default.contentsOfDirectory(atPath: walDirectory).sorted().last!)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segment)))
        bytes[WALFormat.headerSize + 200] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: segment))

        if let log = try await Self.refusedRestart(daemon, "journeyd started on a WAL with a corrupt record in the middle") {
            #expect(log.contains("WAL corrupt in \(segment) at offset"), "\(log)")
            #expect(log.contains("--wal-skip-corrupt"))
        }
        let skipping = try await daemon.restart(extraArguments: ["--wal-skip-corrupt"])
        #expect(skipping.log.contains("msg=\"WAL record skipped\""), "\(skipping.log)")
        let after = try TrackingClient(daemon: skipping)
        let profile = try await after.admin("/v1/profiles?type=user_id&value=c-user").json()
        #expect(profile["touchpoints"]?.int == 29)
        try await after.shutdown()
        await skipping.stop()
    }

    @Test func aWALThatNoLongerReachesTheSnapshotRefusesToStart() async throws {
        let daemon = try await DaemonProcess.start(label: "gap")
        let client = try TrackingClient(daemon: daemon)
        #expect(try await client.post("/v1/batch", Events.batch((0..<5).map { Events.track("A", userId: "g", messageId: "g-\($0)") })).status == 200)
        try await client.shutdown()
        daemon.kill()
        // The snapshots are gone and the WAL's first segment starts after position 0: history is missing.
        try? FileManager.default.removeItem(atPath: daemon.stateDirectory + "/snapshots")
        let wal = daemon.stateDirectory + "/wal"
        try FileManager.default.moveItem(atPath: wal + "/" + WALFormat.segmentName(base: 0), toPath: wal + "/" + WALFormat.segmentName(base: 4096))
        if let log = try await Self.refusedRestart(daemon, "journeyd started although the WAL does not reach back to its state") {
            #expect(log.contains("ends at WAL position 0 but the WAL starts at 4096"), "\(log)")
        }
        await daemon.stop()
    }

    @Test func aCleanRestartGivesTheSameSnapshotContent() async throws {
        let daemon = try await DaemonProcess.start(label: "clean")
        let client = try TrackingClient(daemon: daemon)
        var items: [String] = []
        for index in 0..<60 {
            items.append(Events.track("Product Viewed", anonymousId: "anon-\(index % 7)", messageId: "c-\(index)", extra: "\"timestamp\":\"2024-05-0\(index % 9 + 1)T10:00:00Z\""))
        }
        items.append(#"{"type":"identify","userId":"u-1","anonymousId":"anon-1","messageId":"c-id-1","traits":{"email":"a@b.co"}}"#)
        items.append(#"{"type":"identify","userId":"u-1","anonymousId":"anon-2","messageId":"c-id-2"}"#)
        items.append(#"{"type":"identify","userId":"u-2","anonymousId":"anon-2","messageId":"c-id-3"}"#)
        #expect(try await client.post("/v1/batch", Events.batch(items)).status == 200)
        let before = try await Self.snapshot(client)
        try await client.shutdown()
        #expect(await daemon.stop(keepFiles: true) == 0)

        let restarted = try await daemon.restart()
        let after = try TrackingClient(daemon: restarted)
        let again = try await Self.snapshot(after)
        for table in ["profiles.jsonl.gz", "touchpoints.jsonl.gz", "identities.jsonl.gz", "merges.jsonl.gz"] {
            let first = before["files"]!.elements.first { $0["name"]?.string == table }!
            let second = again["files"]!.elements.first { $0["name"]?.string == table }!
            #expect(first["sha256"]?.string == second["sha256"]?.string, "\(table) differs after restart")
        }
        #expect(before["counts"]?["merges"]?.int == again["counts"]?["merges"]?.int)
        let stats = try await after.admin("/v1/stats").json()
        #expect(stats["blocked_merges"]?.int == 1)
        // Deduplication survives the restart: the same batch again is acknowledged, stored once.
        let resent = try await after.post("/v1/batch", Events.batch(items)).json()
        #expect(resent["accepted"]?.int == items.count)
        #expect(resent["duplicates"]?.int == items.count)
        #expect(try await after.admin("/v1/stats").json()["touchpoints"]?.int == items.count)
        try await after.shutdown()
        await restarted.stop()
    }

    /// The checkpoint is verified while it loads; a damaged table file, which the load does not
    /// read, is caught all the same.
    @Test(arguments: [SnapshotStore.checkpointFile, SnapshotTable.profiles.fileName])
    func aDamagedNewestSnapshotIsSkippedForThePreviousOne(damagedFile: String) async throws {
        let daemon = try await DaemonProcess.start(label: "damaged")
        let client = try TrackingClient(daemon: daemon)
        #expect(try await client.post("/v1/batch", Events.batch((0..<10).map { Events.track("A", userId: "d-user", messageId: "d-\($0)") })).status == 200)
        _ = try await Self.snapshot(client)
        #expect(try await client.post("/v1/batch", Events.batch((10..<20).map { Events.track("B", userId: "d-user", messageId: "d-\($0)") })).status == 200)
        _ = try await Self.snapshot(client)
        #expect(try await client.post("/v1/batch", Events.batch((20..<30).map { Events.track("C", userId: "d-user", messageId: "d-\($0)") })).status == 200)
        try await client.shutdown()
        daemon.kill()

        let store = SnapshotStore(stateDirectory: daemon.stateDirectory)
        let newest = try #require(store.latestName)
        let damaged = store.directory + "/" + newest + "/" + damagedFile
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: damaged)))
        bytes[bytes.count / 2] ^= 0x55
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))

        let restarted = try await daemon.restart()
        let after = try TrackingClient(daemon: restarted)
        let skipped = try #require(restarted.log.split(separator: "\n").first { $0.contains("msg=\"snapshot skipped\"") }, "\(restarted.log)")
        #expect(skipped.contains("snapshot=\(newest)") && skipped.contains("\(damagedFile) does not match the manifest: sha256 differs"), "\(skipped)")
        let profile = try await after.admin("/v1/profiles?type=user_id&value=d-user").json()
        #expect(profile["touchpoints"]?.int == 30)
        try await after.shutdown()
        await restarted.stop()
    }
}

/// Message ids collected by concurrent senders.
final class MessageLedger: Sendable {
    private let storage = Mutex<Set<String>>([])

    func add(_ ids: [String]) {
        storage.withLock { $0.formUnion(ids) }
    }

    var ids: Set<String> { storage.withLock { $0 } }
}
