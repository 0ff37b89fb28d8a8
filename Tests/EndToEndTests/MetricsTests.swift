import Foundation
import JourneyServer
import Testing

/// `/metrics` on the admin listener, scraped from the live daemon after real traffic on both
/// ingest listeners.
@Suite struct MetricsTests {
    /// `name{labels} value` lines of the Prometheus text format, by series; fails on any other line.
    static func series(_ text: String) -> [String: Double]? {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
            values[String(line[..<space])] = value
        }
        return values
    }

    @Test func countersHistogramsAndGaugesReflectWhatTheDaemonDid() async throws {
        try await withDaemon("metrics") { daemon, client async throws in
            let batch = Events.batch([
                Events.track("A", userId: "m1", messageId: "m-1"), Events.track("B", userId: "m2", messageId: "m-2"), "{\"type\":\"track\"}",
            ])
            #expect(try await client.post("/v1/batch", batch).status == 200)
            #expect(try await client.post("/v1/batch", Events.batch([Events.track("A", userId: "m1", messageId: "m-1")])).status == 200)
            let stream = try await StreamClient.connect(
                to: daemon,
                certificate: try CertificateFactory.issueLeaf(commonName: DaemonProcess.streamClientName, usage: .client, issuer: daemon.certificates.ca))
            try await stream.send(lines: [Events.track("S", userId: "m3", messageId: "s-1"), "nope"])
            _ = try await stream.linesUntilAck(2)

            let scrape = try await client.admin("/metrics", token: nil)
            #expect(scrape.status == 200)
            #expect(scrape.headers["Content-Type"].first?.hasPrefix("text/plain; version=0.0.4") == true)
            let values = try #require(Self.series(scrape.text), "not Prometheus text:\n\(scrape.text)")
            #expect(values[#"journeyd_events_received_total{listener="http",source="website"}"#] == 3, "\(scrape.text)")
            #expect(values[#"journeyd_events_duplicate_total{listener="http",source="website"}"#] == 1)
            #expect(values[#"journeyd_events_rejected_total{listener="http",source="website"}"#] == 1)
            #expect(values[#"journeyd_events_received_total{listener="stream",source="call-centre"}"#] == 1)
            #expect(values[#"journeyd_events_rejected_total{listener="stream",source="call-centre"}"#] == 1)
            #expect(values[#"journeyd_ack_seconds_count{listener="http"}"#] == 2)
            #expect(values[#"journeyd_ack_seconds_count{listener="stream"}"#] == 1)
            #expect(values["journeyd_stream_connections"] == 1)
            #expect(values["journeyd_touchpoints"] == 3)
            #expect(values["journeyd_profiles"] == 3)
            #expect((values["journeyd_wal_syncs_total"] ?? 0) >= 1)
            #expect((values["journeyd_wal_bytes_written_total"] ?? 0) > 0)
            // Every sync is timed (the timing is recorded just before the sync is counted).
            #expect((values["journeyd_wal_fsync_seconds_count"] ?? 0) >= (values["journeyd_wal_syncs_total"] ?? 1))
            #expect(!scrape.text.contains("m1") && !scrape.text.contains("m-1"), "no identifiers in metrics")

            #expect(try await client.admin("/v1/snapshots", method: .POST).status == 200)
            let after = try #require(Self.series(try await client.admin("/metrics", token: nil).text))
            #expect(after["journeyd_snapshot_last_duration_seconds"] != nil)
            #expect((after["journeyd_snapshot_age_seconds"] ?? -1) >= 0)
            #expect(after["journeyd_wal_syncs_total"]! >= values["journeyd_wal_syncs_total"]!, "counters never go down")
            await stream.close()
        }
    }
}

/// The periodic `msg=stats` log line, read from the live daemon's stderr.
@Suite struct StatsLogTests {
    @Test func aStatsLineReportsEachIntervalInLogfmt() async throws {
        try await withDaemon("stats", extraConfig: "logging: { stats_interval: 1s }") { daemon, client async throws in
            let batch = Events.batch((0..<5).map { Events.track("S", userId: "stats-\($0)", messageId: "stats-\($0)") } + ["{}"])
            #expect(try await client.post("/v1/batch", batch).status == 200)
            #expect(try await client.post("/v1/batch", Events.batch([Events.track("S", userId: "stats-0", messageId: "stats-0")])).status == 200)
            let deadline = ContinuousClock.now + .seconds(10)
            var totals: (eventsIn: Int, rejected: Int, deduplicated: Int) = (0, 0, 0)
            var last: [String: String] = [:]
            while ContinuousClock.now < deadline, totals.eventsIn < 6 {
                let lines = daemon.log.split(separator: "\n").filter { $0.contains("msg=stats") }
                totals = (0, 0, 0)
                for line in lines {
                    let fields = DaemonProcess.logfmtFields(String(line))
                    totals.eventsIn += Int(fields["events_in"] ?? "") ?? 0
                    totals.rejected += Int(fields["rejected"] ?? "") ?? 0
                    totals.deduplicated += Int(fields["deduplicated"] ?? "") ?? 0
                    last = fields
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(totals.eventsIn == 6 && totals.rejected == 1 && totals.deduplicated == 1, "\(daemon.log)")
            for key in ["events_per_s", "profiles", "identifiers", "touchpoints", "merges", "blocked_merges", "wal_bytes", "wal_syncs", "stream_connections", "rss_bytes"] {
                #expect(last[key] != nil, "stats line without \(key): \(last)")
            }
            #expect((Int(last["rss_bytes"] ?? "") ?? 0) > 1 << 20)
            #expect(last["profiles"] == "5")
            let p99 = daemon.log.split(separator: "\n").filter { $0.contains("msg=stats") }
                .compactMap { DaemonProcess.logfmtFields(String($0))["wal_fsync_p99_ms"].flatMap(Double.init) }
            #expect(!p99.isEmpty && p99.allSatisfy { $0 > 0 }, "the interval with the events reports the WAL's fsync p99")
            #expect(!daemon.log.split(separator: "\n").filter { $0.contains("msg=stats") }.contains { $0.contains("stats-0") }, "no identifiers")
        }
    }
}
