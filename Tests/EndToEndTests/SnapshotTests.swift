import Foundation
import JourneyCore
import Testing

/// Snapshots as analysts get them: taken on `POST /v1/snapshots` from a real daemon, checked by
/// the built `journeyctl snapshot verify|inspect`, and loaded as-is by DuckDB.
@Suite struct SnapshotTests {
    /// Thirteen events from two sources: four customers, one merge (bob's phone joins his web
    /// profile), one merge refused (mallory claims alice's email; user_id is limited to 1).
    static let web: [String] = [
        #"{"type":"track","event":"Promotion Viewed","anonymousId":"anon-a","messageId":"s-01","timestamp":"2024-05-01T10:00:00Z"}"#,
        #"{"type":"track","event":"Product Viewed","anonymousId":"anon-a","messageId":"s-02","timestamp":"2024-05-01T10:05:00Z","properties":{"sku":"X-1","price":12.5}}"#,
        #"{"type":"identify","userId":"alice","anonymousId":"anon-a","messageId":"s-03","timestamp":"2024-05-01T10:10:00Z","traits":{"email":"alice@example.com","plan":"pro"}}"#,
        #"{"type":"page","name":"Home","anonymousId":"anon-b","messageId":"s-06","timestamp":"2024-05-01T12:00:00Z"}"#,
        #"{"type":"identify","userId":"bob","anonymousId":"anon-b","messageId":"s-08","timestamp":"2024-05-01T13:00:00Z"}"#,
        #"{"type":"track","event":"Ticket Created","userId":"carol","messageId":"s-10","timestamp":"2024-05-03T08:00:00Z"}"#,
        #"{"type":"track","event":"Email Opened","userId":"carol","messageId":"s-11","timestamp":"2024-05-03T09:00:00Z"}"#,
        #"{"type":"track","event":"Product Viewed","userId":"mallory","messageId":"s-12","timestamp":"2024-05-04T10:00:00Z"}"#,
        #"{"type":"identify","userId":"mallory","messageId":"s-13","timestamp":"2024-05-04T11:00:00Z","traits":{"email":"alice@example.com"}}"#,
    ]
    static let mobile: [String] = [
        #"{"type":"track","event":"Order Completed","userId":"alice","messageId":"s-04","timestamp":"2024-05-01T11:00:00Z","properties":{"total":99.9}}"#,
        #"{"type":"track","event":"Application Opened","userId":"alice","messageId":"s-05","timestamp":"2024-05-02T08:00:00Z"}"#,
        #"{"type":"track","event":"Product Viewed","anonymousId":"dev-b","messageId":"s-07","timestamp":"2024-05-01T12:30:00Z"}"#,
        #"{"type":"track","event":"Signed In","userId":"bob","anonymousId":"dev-b","messageId":"s-09","timestamp":"2024-05-01T13:30:00Z"}"#,
    ]

    static func journeyctl(_ arguments: String...) throws -> CommandRun {
        try CommandRun.run(TestEnvironment.builtProduct("journeyctl"), arguments)
    }

    static func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)!.intValue
    }

    @Test func anOnDemandSnapshotVerifiesAndLoadsInDuckDB() async throws {
        try await withDaemon("snapshot") { daemon, client async throws in
            #expect(try await client.post("/v1/batch", Events.batch(Self.web)).status == 200)
            #expect(try await client.post("/v1/batch", Events.batch(Self.mobile), writeKey: DaemonProcess.mobileWriteKey).status == 200)

            #expect(try await client.admin("/v1/snapshots", method: .POST, token: nil).status == 401)
            let reply = try await client.admin("/v1/snapshots", method: .POST)
            #expect(reply.status == 200, "\(reply.text)")
            let manifest = try reply.json()
            #expect(manifest["format"]?.string == "journeyd-snapshot/1")
            #expect(manifest["counts"]?["profiles"]?.int == 4)
            #expect(manifest["counts"]?["touchpoints"]?.int == 13)
            #expect(manifest["counts"]?["identities"]?.int == 8)
            #expect(manifest["counts"]?["merges"]?.int == 2)
            #expect((manifest["wal_position"]?.int ?? 0) > 0)
            let files = manifest["files"]?.elements.map { $0["name"]!.string! } ?? []
            #expect(manifest["counts"]?["shared_identifiers"]?.int == 0)
            #expect(
                files == [
                    "profiles.jsonl.gz", "touchpoints.jsonl.gz", "identities.jsonl.gz", "merges.jsonl.gz", "shared_identifiers.jsonl.gz",
                    "journeyd-state.bin.zst",
                ])

            // Published: LATEST names a directory of group-readable files whose manifest is the answer.
            let snapshots = daemon.stateDirectory + "/snapshots"
            let name = try String(contentsOfFile: snapshots + "/LATEST", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let directory = snapshots + "/" + name
            #expect(name.wholeMatch(of: /[0-9]{8}T[0-9]{6}Z-[0-9]{6}/) != nil, "\(name)")
            #expect(try Self.mode(directory) == 0o750)
            #expect(try Set(FileManager.default.contentsOfDirectory(atPath: directory)) == Set(files + ["manifest.json"]))
            for file in files + ["manifest.json"] {
                #expect(try Self.mode(directory + "/" + file) == 0o640, "\(file)")
            }
            // The answer is the manifest with a leading "name" naming the directory.
            #expect(try reply.json()["name"]?.string == name)
            let onDisk = try JSONDocument(bytes: [UInt8](FileManager.default.contents(atPath: directory + "/manifest.json")!)).root
            #expect(onDisk["name"] == nil)
            #expect(onDisk["files"]?.description == (try reply.json()["files"]?.description))
            #expect(onDisk["wal_position"]?.int == (try reply.json()["wal_position"]?.int))

            // journeyctl, the built binary: verify passes on the snapshot and on its parent.
            let verify = try Self.journeyctl("snapshot", "verify", directory)
            #expect(verify.status == 0, "\(verify.stderr)")
            #expect(verify.stdout.contains("\(name): OK"), "\(verify.stdout)")
            let viaLatest = try Self.journeyctl("snapshot", "verify", snapshots)
            #expect(viaLatest.status == 0, "\(viaLatest.stderr)")

            let inspect = try Self.journeyctl("snapshot", "inspect", snapshots)
            #expect(inspect.status == 0, "\(inspect.stderr)")
            let lines = inspect.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
            for expected in [
                "snapshot \(name)", "profiles 4", "touchpoints 13", "identities 8", "merges 2 (1 blocked)",
                "first ts 2024-05-01T10:00:00.000Z", "last ts 2024-05-04T11:00:00.000Z",
                "web 9 69.2%", "mobile 4 30.8%", "buy 1 25.0% ########", "converted 1 25.0% of profiles reached buy",
                "use 2 50.0% ###############",
            ] {
                #expect(lines.contains(expected), "inspect should print \"\(expected)\":\n\(inspect.stdout)")
            }

            // DuckDB reads the files as they are.
            let duck = try await Self.duckDB(directory)
            #expect(duck.status == 0, "\(duck.stderr)")
            let result = try JSONDocument(string: duck.stdout).root
            let stages = Dictionary(uniqueKeysWithValues: result["stages"]!.elements.map { ($0[index: 0]!.string ?? "null", $0[index: 1]!.int!) })
            #expect(stages == ["use": 2, "engage": 1, "explore": 1])
            #expect(result["touchpoints"]?.int == 13)
            #expect(result["identities"]?.int == 8)
            #expect(result["merges"]?.int == 2)
            #expect(result["blocked"]?.int == 1)
            #expect(result["converted"]?.int == 1)
            #expect(result["buyers"]?.description == "[[2, 1, true]]", "\(result["buyers"]?.description ?? "nil")")
            #expect(result["shared"]?.int == 0)
            #expect(result["web"]?.int == 9)
            #expect(result["first_ts"]?.string == "2024-05-01 10:00:00+00")
            #expect(result["ts_type"]?.string == "TIMESTAMP WITH TIME ZONE")
            #expect(result["bob_touchpoints"]?.int == 4)

            // The log line names the snapshot and says how long the writers left the CPU to ingest.
            let written = daemon.log.split(separator: "\n").last { $0.contains("msg=\"snapshot written\"") }.map { DaemonProcess.logfmtFields(String($0)) }
            #expect(written?["snapshot"] == name, "\(daemon.log)")
            #expect(written?["paced_ms"].flatMap(Int.init).map { $0 >= 0 } == true, "\(daemon.log)")
        }
    }

    @Test func verifyFailsNamingTheDamagedFile() async throws {
        try await withDaemon("snapshotbad") { daemon, client async throws in
            #expect(try await client.post("/v1/batch", Events.batch(Self.web)).status == 200)
            #expect(try await client.admin("/v1/snapshots", method: .POST).status == 200)
            let snapshots = daemon.stateDirectory + "/snapshots"
            let name = try String(contentsOfFile: snapshots + "/LATEST", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let path = snapshots + "/" + name + "/touchpoints.jsonl.gz"
            var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
            bytes[bytes.count / 2] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o640)
            let verify = try Self.journeyctl("snapshot", "verify", snapshots)
            #expect(verify.status == 1)
            #expect(verify.stderr.contains("touchpoints.jsonl.gz: sha256"), "\(verify.stderr)")
            let missing = try Self.journeyctl("snapshot", "verify", daemon.directory + "/nowhere")
            #expect(missing.status == 66)
            #expect(missing.stderr.contains("nowhere"), "\(missing.stderr)")
        }
    }

    /// A touchpoints table past one gzip member (1 MiB): journeyd writes tables as several gzip
    /// members (docs/SNAPSHOTS.md), and DuckDB must read them as one stream, every row.
    @Test func aTableOfSeveralGzipMembersLoadsWhole() async throws {
        try await withDaemon("members") { daemon, client async throws in
            let padding = String(repeating: "x", count: 300)
            for batch in 0..<30 {
                let events = (0..<100).map { index in
                    Events.track("Page Read", userId: "reader-\(index % 50)", messageId: "mm-\(batch)-\(index)", extra: #""properties":{"note":"\#(padding)"}"#)
                }
                #expect(try await client.post("/v1/batch", Events.batch(events)).status == 200)
            }
            let reply = try await client.admin("/v1/snapshots", method: .POST)
            #expect(reply.status == 200, "\(reply.text)")
            let directory = daemon.stateDirectory + "/snapshots/" + (try reply.json())["name"]!.string!
            let file = [UInt8](FileManager.default.contents(atPath: directory + "/touchpoints.jsonl.gz")!)
            let members = (0..<(file.count - 2)).filter { file[$0] == 0x1F && file[$0 + 1] == 0x8B && file[$0 + 2] == 0x08 }
            #expect(members.count >= 2, "expected several gzip members, found \(members.count)")
            let duck = try await CommandRun.run(
                "/usr/bin/env",
                ["python3", "-c", "import duckdb, sys; print(duckdb.sql(f\"SELECT count(*), count(DISTINCT message_id) FROM read_json('{sys.argv[1]}/touchpoints.jsonl.gz')\").fetchall()[0])", directory])
            #expect(duck.status == 0, "\(duck.stderr)")
            #expect(duck.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "(3000, 3000)")
        }
    }

    /// Runs the DESIGN.md query and a few counts with DuckDB's Python package; prints JSON.
    static func duckDB(_ directory: String) async throws -> CommandRun {
        let script = """
            import duckdb, json, sys
            d = sys.argv[1]
            con = duckdb.connect()
            con.sql("SET TimeZone = 'UTC'")
            one = lambda q: con.sql(q).fetchall()[0][0]
            out = {
                "stages": con.sql(f"SELECT stage, count(*) FROM read_json('{d}/profiles.jsonl.gz') GROUP BY 1").fetchall(),
                "touchpoints": one(f"SELECT count(*) FROM read_json('{d}/touchpoints*.jsonl.gz')"),
                "identities": one(f"SELECT count(*) FROM read_json('{d}/identities.jsonl.gz')"),
                "merges": one(f"SELECT count(*) FROM read_json('{d}/merges.jsonl.gz')"),
                "blocked": one(f"SELECT count(*) FROM read_json('{d}/merges.jsonl.gz') WHERE blocked"),
                "converted": one(f"SELECT count(*) FROM read_json('{d}/profiles.jsonl.gz') WHERE converted"),
                # The declared columns of docs/SNAPSHOTS.md, new fields included, and its conversion query.
                "buyers": con.sql(f\"\"\"
                    SELECT channel_count, count(*), min(time_to_first_purchase_s) > 0 FROM read_json('{d}/profiles*.jsonl.gz',
                        format = 'newline_delimited', columns = {{
                        'profile_id': 'VARCHAR', 'identifiers': 'STRUCT(type VARCHAR, value VARCHAR)[]', 'traits': 'JSON',
                        'first_seen': 'TIMESTAMPTZ', 'last_seen': 'TIMESTAMPTZ', 'touchpoints': 'BIGINT', 'channels': 'VARCHAR[]', 'channel_count': 'BIGINT',
                        'phases': 'STRUCT(discover TIMESTAMPTZ, explore TIMESTAMPTZ, buy TIMESTAMPTZ, "use" TIMESTAMPTZ, ask TIMESTAMPTZ, engage TIMESTAMPTZ)',
                        'stage': 'VARCHAR', 'converted': 'BOOLEAN', 'time_to_first_purchase_s': 'DOUBLE', 'merged_from': 'VARCHAR[]'}})
                    WHERE converted GROUP BY 1\"\"\").fetchall(),
                "shared": one(f"SELECT count(*) FROM read_json('{d}/shared_identifiers.jsonl.gz')"),
                "web": one(f"SELECT count(*) FROM read_json('{d}/touchpoints*.jsonl.gz') WHERE channel = 'web'"),
                "first_ts": one(f"SELECT min(ts)::VARCHAR FROM read_json('{d}/touchpoints*.jsonl.gz')"),
                "ts_type": one(f"SELECT typeof(ts) FROM read_json('{d}/touchpoints*.jsonl.gz') LIMIT 1"),
                "bob_touchpoints": one(f\"\"\"
                    SELECT p.touchpoints FROM read_json('{d}/profiles.jsonl.gz') p
                    JOIN read_json('{d}/identities.jsonl.gz') i USING (profile_id)
                    WHERE i.type = 'user_id' AND i.value = 'bob'\"\"\"),
            }
            print(json.dumps(out))
            """
        return try await CommandRun.run("/usr/bin/env", ["python3", "-c", script, directory])
    }
}
