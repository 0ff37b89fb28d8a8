import Foundation
import JourneyServer
import JourneyStorage
import Synchronization

/// A real `journeyd` process for the HTTP benchmark: a temp state dir, a CA and a server
/// certificate from `CertificateFactory`, a config with one source and loopback listeners on
/// port 0; the bound addresses come from its `msg=ready` log line.
final class BenchDaemon: Sendable {
    static let writeKey = "journeybench-write-key"
    static let adminToken = "journeybench-admin-token-0123456789"

    let binary: String
    let directory: String
    let caCertificatePath: String
    let httpAddress: String
    let adminAddress: String
    private let process: Process
    private let output: LogBuffer
    private let keepFiles: Bool

    var pid: Int32 { process.processIdentifier }
    var log: String { output.text }

    /// The `journeyd` next to this executable (both are built into the same directory).
    static func defaultBinary() -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("journeyd").path
    }

    /// - Parameter initialSnapshot: a snapshot directory the daemon finds as its newest snapshot
    ///   (hard-linked, or copied across file systems, into its state dir), so it starts by
    ///   recovering that state.
    static func start(binary: String, label: String, durability: String?, keepFiles: Bool, initialSnapshot: String? = nil) async throws -> BenchDaemon {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("no journeyd binary at \(binary); build it with swift build -c release --product journeyd (same --scratch-path), or pass --journeyd PATH")
        }
        let directory = NSTemporaryDirectory() + "journeybench-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/tls", withIntermediateDirectories: true)
        let ca = try CertificateFactory.certificateAuthority(commonName: "journeybench CA")
        let server = try CertificateFactory.issueLeaf(commonName: "localhost", usage: .server, issuer: ca)
        try ca.write(certificateTo: directory + "/tls/ca.crt", privateKeyTo: directory + "/tls/ca.key")
        try server.write(certificateTo: directory + "/tls/server.crt", privateKeyTo: directory + "/tls/server.key")
        try adminToken.write(toFile: directory + "/admin.token", atomically: true, encoding: .utf8)
        let config = """
            state_dir: \(directory)/state
            tls:
              certificate: \(directory)/tls/server.crt
              private_key: \(directory)/tls/server.key
            listeners:
              http: { address: "127.0.0.1:0" }
              stream: { address: "127.0.0.1:0" }
              admin: { address: "127.0.0.1:0", token_file: \(directory)/admin.token }
            sources:
              - { name: website, channel: web, write_key: \(writeKey) }
            \(durability.map { "durability: \($0)" } ?? "")
            """
        let configPath = directory + "/journeyd.yaml"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        if let initialSnapshot { try installSnapshot(initialSnapshot, stateDirectory: directory + "/state") }
        return try await launch(binary: binary, directory: directory, keepFiles: keepFiles)
    }

    /// Puts the snapshot directory `source` into `<state>/snapshots/` under its own name and points
    /// `LATEST` at it, as `SnapshotStore` publishes one.
    private static func installSnapshot(_ source: String, stateDirectory: String) throws {
        let files = FileManager.default
        let name = URL(fileURLWithPath: source).lastPathComponent
        guard files.fileExists(atPath: source + "/" + SnapshotStore.manifestFile) else {
            throw BenchError("\(source) is not a snapshot directory (no \(SnapshotStore.manifestFile))")
        }
        let snapshots = stateDirectory + "/snapshots"
        try files.createDirectory(atPath: snapshots + "/" + name, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        for file in try files.contentsOfDirectory(atPath: source) {
            let from = source + "/" + file
            let to = snapshots + "/" + name + "/" + file
            if link(from, to) != 0 { try files.copyItem(atPath: from, toPath: to) }
        }
        try (name + "\n").write(toFile: snapshots + "/" + SnapshotStore.latestFile, atomically: true, encoding: .utf8)
    }

    /// Starts `binary` on the config in `directory` and waits (up to 10 minutes: recovery of a
    /// large state) for its `msg=ready` line.
    private static func launch(binary: String, directory: String, keepFiles: Bool) async throws -> BenchDaemon {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config", directory + "/journeyd.yaml"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        let output = LogBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            output.append(handle.availableData)
        }
        try process.run()
        let deadline = BenchClock.nanoseconds() + 600_000_000_000
        while BenchClock.nanoseconds() < deadline {
            if let line = output.text.split(separator: "\n").first(where: { $0.contains("msg=ready") }) {
                let fields = logfmtFields(String(line))
                guard let http = fields["http"], let admin = fields["admin"] else {
                    throw BenchError("journeyd's ready line has no http/admin address: \(line)")
                }
                return BenchDaemon(
                    binary: binary, directory: directory, caCertificatePath: directory + "/tls/ca.crt", httpAddress: http,
                    adminAddress: admin, process: process, output: output, keepFiles: keepFiles)
            }
            if !process.isRunning {
                throw BenchError("journeyd exited with status \(process.terminationStatus) before it was ready:\n\(output.text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw BenchError("journeyd did not log msg=ready within 10 minutes:\n\(output.text)")
    }

    /// Stops the daemon (SIGTERM: it writes its final snapshot) and starts it again on the same
    /// state; returns the new process and how long the stop and the start to ready took.
    func restart() async throws -> (daemon: BenchDaemon, stopSeconds: Double, readySeconds: Double) {
        let stopped = await stop(removingFiles: false)
        guard stopped.status == 0 else { throw BenchError("journeyd exited with status \(stopped.status) on SIGTERM:\n\(log.suffix(2000))") }
        let start = BenchClock.nanoseconds()
        let daemon = try await Self.launch(binary: binary, directory: directory, keepFiles: keepFiles)
        return (daemon, stopped.seconds, BenchClock.seconds(since: start))
    }

    private init(
        binary: String, directory: String, caCertificatePath: String, httpAddress: String, adminAddress: String, process: Process,
        output: LogBuffer, keepFiles: Bool
    ) {
        self.binary = binary
        self.directory = directory
        self.caCertificatePath = caCertificatePath
        self.httpAddress = httpAddress
        self.adminAddress = adminAddress
        self.process = process
        self.output = output
        self.keepFiles = keepFiles
    }

    /// SIGTERM, then wait (up to 5 minutes — the final snapshot of a large state —, then SIGKILL).
    /// Returns the exit status and how long it took.
    func stop(removingFiles: Bool = true) async -> (status: Int32, seconds: Double) {
        let start = BenchClock.nanoseconds()
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = start + 300_000_000_000
        while process.isRunning, BenchClock.nanoseconds() < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let seconds = BenchClock.seconds(since: start)
        if removingFiles && !keepFiles { try? FileManager.default.removeItem(atPath: directory) }
        return (process.terminationStatus, seconds)
    }

    static func logfmtFields(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        for token in line.split(separator: " ") {
            guard let equals = token.firstIndex(of: "=") else { continue }
            fields[String(token[..<equals])] = String(token[token.index(after: equals)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return fields
    }
}

/// The daemon's combined output, appended from the pipe's reader thread; keeps the first
/// 64 KiB (startup) and the last 1 MiB.
final class LogBuffer: Sendable {
    private let state = Mutex<(head: [UInt8], tail: [UInt8])>(([], []))

    func append(_ data: Data) {
        state.withLock { state in
            if state.head.count < 64 * 1024 {
                state.head += data
            } else {
                state.tail += data
                if state.tail.count > 2 * 1024 * 1024 { state.tail.removeFirst(state.tail.count - 1024 * 1024) }
            }
        }
    }

    var text: String {
        state.withLock { String(decoding: $0.head + $0.tail, as: UTF8.self) }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
