import Testing

/// An unmodified Segment SDK works against journeyd by changing only its host and write key.
/// Needs `segment-analytics-python` (installed by scripts/install-test-deps.sh, which .ci/run runs).
@Suite struct SegmentSDKTests {
    @Test func officialPythonSDKWithGzipIsAccepted() async throws {
        try await withDaemon("sdk") { daemon, client async throws in
            let sdk = try await CommandRun.run(
                "/usr/bin/env",
                [
                    "python3", TestEnvironment.repositoryRoot + "/scripts/sdk_segment_python.py", "https://\(daemon.httpAddress)",
                    DaemonProcess.writeKey, "sdk-user",
                ],
                environment: ["REQUESTS_CA_BUNDLE": daemon.certificates.caCertificate])
            #expect(sdk.status == 0, "the SDK failed (is segment-analytics-python installed? run scripts/install-test-deps.sh): \(sdk.stderr)")

            let profile = try await client.admin("/v1/profiles?type=user_id&value=sdk-user").json()
            let journey = profile["journey"]!.elements
            #expect(Set(journey.compactMap { $0["type"]?.string }) == ["page", "track", "identify", "screen", "group", "alias"])
            #expect(profile["touchpoints"]?.int == 7)
            let identifiers = Set(profile["identifiers"]!.elements.map { "\($0["type"]!.string!)=\($0["value"]!.string!)" })
            #expect(identifiers.isSuperset(of: ["user_id=sdk-user", "email=sdk-user@sdk.example.com", "anonymous_id=sdk-anon-sdk-user"]))
            #expect(profile["converted"]?.bool == true)
            #expect(journey.first(where: { $0["event"]?.string == "Product Viewed" })?["properties"]?["price"]?.double == 9.5)
        }
    }
}
