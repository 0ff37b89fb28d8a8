import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Owns a second SIGTERM/SIGINT: the first starts the graceful stop (the service group handles
/// it); another one while that stop is under way means "now". The WAL is flushed and synced —
/// so every acknowledged event is on disk — and the process exits with status 1 at once, without
/// waiting for draining or the final snapshot.
///
/// First in the service group, so it is told to stop last and keeps listening through the stop.
struct ImmediateStopService: Service {
    let engine: IngestEngine
    let logger: Logger

    static let exitStatus: Int32 = 1

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        await cancelWhenGracefulShutdown {
            var received = 0
            for await signal in signals {
                received += 1
                guard received >= 2 else { continue }
                logger.warning(
                    "second stop signal: syncing the WAL and exiting without the final snapshot", metadata: ["signal": "\(signal)"])
                await engine.close()
                exit(Self.exitStatus)
            }
        }
    }
}
