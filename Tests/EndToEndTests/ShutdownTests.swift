import Foundation
import JourneyServer
import NIOCore
import Testing

/// A stop is bounded: a client that stops reading cannot hold it past `shutdown_timeout`, and a
/// second stop signal ends it at once after syncing the WAL.
@Suite struct ShutdownTests {
    /// A stream client whose acknowledged events are durable, then which sends lines whose error
    /// replies it never reads, so the daemon's writes to it block and the drain cannot finish.
    private func stuckClient(_ daemon: DaemonProcess) async throws -> StreamClient {
        let certificate = try CertificateFactory.issueLeaf(commonName: DaemonProcess.streamClientName, usage: .client, issuer: daemon.certificates.ca)
        let stream = try await StreamClient.connect(to: daemon, certificate: certificate)
        try await stream.send(lines: (0..<50).map { Events.track("Kept", userId: "stop-\($0)", messageId: "stop-\($0)") })
        _ = try await stream.linesUntilAck(50)
        try await stream.channel.setOption(ChannelOptions.autoRead, value: false)
        let junk = ByteBuffer(string: String(repeating: "this is not json\n", count: 20_000))
        for _ in 0..<15 { stream.channel.writeAndFlush(junk, promise: nil) }
        try await Task.sleep(for: .seconds(2))
        return stream
    }

    private static func touchpointsAfterRestart(_ daemon: DaemonProcess) async throws -> Int {
        let restarted = try await daemon.restart()
        let client = try TrackingClient(daemon: restarted)
        let count = try await client.admin("/v1/stats").json()["touchpoints"]?.int ?? -1
        try await client.shutdown()
        await restarted.stop()
        return count
    }

    @Test func aClientThatStopsReadingCannotHoldTheStopPastTheTimeout() async throws {
        let daemon = try await DaemonProcess.start(label: "stop-bound", extraConfig: "shutdown_timeout: 2s")
        let stream = try await stuckClient(daemon)
        let started = ContinuousClock.now
        daemon.signal(SIGTERM)
        let exited = await daemon.waitForExit(timeout: .seconds(30))
        #expect(exited, "still running 30 s after SIGTERM:\n\(daemon.log)")
        let took = daemon.exitedAt.map { $0 - started }
        #expect(took.map { $0 < .seconds(15) } == true, "exited \(took.map { "\($0)" } ?? "at an unknown time") after SIGTERM")
        #expect(daemon.exitStatus == 0)
        await stream.close()
        #expect(try await Self.touchpointsAfterRestart(daemon) == 50)
    }

    @Test func aSecondStopSignalSyncsTheWALAndExitsAtOnce() async throws {
        let daemon = try await DaemonProcess.start(label: "stop-twice")
        let stream = try await stuckClient(daemon)
        daemon.signal(SIGTERM)
        try await Task.sleep(for: .seconds(1))
        #expect(daemon.isRunning, "the stuck client should hold the graceful stop")
        let started = ContinuousClock.now
        daemon.signal(SIGTERM)
        // The graceful stop would wait for the stuck client until shutdown_timeout (120 s); after
        // the second signal the daemon exits at once, but under a busy suite that took 11.6 s once.
        #expect(await daemon.waitForExit(timeout: .seconds(60)))
        let took = daemon.exitedAt.map { $0 - started }
        #expect(took.map { $0 < .seconds(30) } == true, "exited \(took.map { "\($0)" } ?? "at an unknown time") after the second signal")
        #expect(daemon.exitStatus == 1)
        #expect(daemon.log.contains("second stop signal"), "\(daemon.log)")
        await stream.close()
        #expect(try await Self.touchpointsAfterRestart(daemon) == 50)
    }
}
