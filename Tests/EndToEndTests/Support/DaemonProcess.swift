import Foundation
import JourneyServer
import Synchronization
import Testing

/// A real `journeyd` process started for one test: its own state dir, certificates, config and
/// loopback ports chosen by the kernel (port 0), found from the daemon's `msg=ready` log line.
final class DaemonProcess: Sendable {
    static let writeKey = "test-write-key-web"
    static let mobileWriteKey = "test-write-key-mobile"
    static let adminToken = "test-admin-token-0123456789"
    /// Write key of the `pos` source, which stream clients may send as their first line.
    static let streamWriteKey = "test-write-key-pos"
    /// The certificate subject that selects the `call-centre` source on the stream.
    static let streamClientName = "cc-exporter"

    let directory: String
    let certificates: TestEnvironment.Certificates
    let httpAddress: String
    let streamAddress: String
    let adminAddress: String
    private let process: Process
    private let output: OutputBuffer
    private let exitTime: ExitTime

    var stateDirectory: String { directory + "/state" }
    /// The config file the daemon was started with (and reads again on SIGHUP).
    var configPath: String { directory + "/journeyd.yaml" }

    /// Starts the daemon and waits until it logs that it is ready.
    /// - Parameter extraConfig: YAML appended to the generated config (top-level keys).
    /// - Parameter environment: variables added to the daemon's environment.
    /// - Parameter sources: YAML replacing the `sources:` block (top-level keys, `sources:` included).
    static func start(
        label: String, extraConfig: String = "", limits: String = "", environment: [String: String] = [:], sources: String? = nil
    ) async throws -> DaemonProcess {
        let directory = TestEnvironment.temporaryDirectory(label)
        let certificates = try TestEnvironment.Certificates.generate(in: directory + "/tls")
        try adminToken.write(toFile: directory + "/admin.token", atomically: true, encoding: .utf8)
        let config = """
            state_dir: \(directory)/state
            tls:
              certificate: \(certificates.serverCertificate)
              private_key: \(certificates.serverKey)
              client_ca: \(certificates.caCertificate)
            listeners:
              http: { address: "127.0.0.1:0" }
              stream: { address: "127.0.0.1:0" }
              admin: { address: "127.0.0.1:0", token_file: \(directory)/admin.token }
            \(sources ?? defaultSources)
            \(limits.isEmpty ? "" : "limits:\n" + limits)
            \(extraConfig)
            """
        let configPath = directory + "/journeyd.yaml"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        return try await launch(directory: directory, certificates: certificates, arguments: ["--config", configPath], environment: environment)
    }

    static let defaultSources = """
        sources:
          - { name: website, channel: web, write_key: \(writeKey) }
          - { name: app, channel: mobile, write_key: \(mobileWriteKey) }
          - { name: call-centre, channel: call_center, client_subject: "CN=\(streamClientName)" }
          - { name: pos, channel: store, write_key: \(streamWriteKey), stream_write_key: true }
        """

    /// Starts a new daemon on the same directory, config and state (after `stop` or `kill`).
    func restart(extraArguments: [String] = []) async throws -> DaemonProcess {
        try await Self.launch(directory: directory, certificates: certificates, arguments: ["--config", directory + "/journeyd.yaml"] + extraArguments)
    }

    /// Sends a signal (e.g. SIGHUP) to the daemon.
    func signal(_ number: Int32) {
        Foundation.kill(process.processIdentifier, number)
    }

    /// Rewrites the config file the daemon was started with (it reads it again on SIGHUP).
    func editConfig(_ change: (String) -> String) throws {
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        try change(text).write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// How many log lines contain `text`.
    func logLines(containing text: String) -> Int {
        log.split(separator: "\n").count { $0.contains(text) }
    }

    /// Waits until at least `count` log lines contain `text`; records an issue (with the log)
    /// and returns false after `timeout`.
    @discardableResult
    func waitForLog(
        _ text: String, count: Int = 1, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation
    ) async -> Bool {
        if await eventually(within: timeout, { logLines(containing: text) >= count }) { return true }
        Issue.record("fewer than \(count) log lines containing \(text):\n\(log)", sourceLocation: sourceLocation)
        return false
    }

    /// Memory the daemon holds right now (VmRSS), in bytes.
    var residentBytes: Int { ProcessMemory.residentBytes(pid: process.processIdentifier) ?? 0 }

    /// The daemon's threads as the kernel names them, with their scheduling policy (5 = SCHED_IDLE).
    var threads: [(name: String, policy: Int)] {
        let directory = "/proc/\(process.processIdentifier)/task"
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return tasks.compactMap { task in
            guard let stat = try? String(contentsOfFile: "\(directory)/\(task)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { return nil }
            // Fields after the name start at the third; the policy is the 41st.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38, let policy = Int(fields[38]) else { return nil }
            return (String(stat[stat.index(after: open)..<close]), policy)
        }
    }

    /// Waits until the process has exited by itself; false after `timeout`.
    func waitForExit(timeout: Duration) async -> Bool {
        guard await eventually(within: timeout, { !process.isRunning }) else { return false }
        await output.waitForEnd()
        _ = await eventually(within: .seconds(10)) { exitTime.instant != nil }
        return true
    }

    /// When the process exited, as the thread that runs its termination handler saw it: time
    /// limits are checked against this, not against when a test's task next ran (a busy suite
    /// can hold its tasks for seconds). Nil until then.
    var exitedAt: ContinuousClock.Instant? { exitTime.instant }

    /// The exit status once the process has exited.
    var exitStatus: Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL: the process gets no chance to flush or snapshot anything.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    private static func launch(
        directory: String, certificates: TestEnvironment.Certificates, arguments: [String], environment: [String: String] = [:]
    ) async throws -> DaemonProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.journeydBinary)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        let output = OutputBuffer()
        let exitTime = ExitTime()
        process.terminationHandler = { _ in exitTime.record() }
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                output.end()
            } else {
                output.append(data)
            }
        }
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        // The log is read again after every wait, also the one that ends past the deadline: a
        // task that was kept waiting (a busy suite) must still find a daemon that became ready.
        while true {
            let text = output.text
            if let line = text.split(separator: "\n").first(where: { $0.contains("msg=ready") }) {
                let fields = Self.logfmtFields(String(line))
                return DaemonProcess(
                    directory: directory, certificates: certificates, httpAddress: fields["http"]!, streamAddress: fields["stream"]!,
                    adminAddress: fields["admin"]!, process: process, output: output, exitTime: exitTime)
            }
            if !process.isRunning {
                // Its last lines (the error that made it exit) may still be in the pipe.
                await output.waitForEnd()
                throw DaemonError.exited(status: process.terminationStatus, log: output.text)
            }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw DaemonError.notReady(log: output.text)
    }

    private init(
        directory: String, certificates: TestEnvironment.Certificates, httpAddress: String, streamAddress: String, adminAddress: String,
        process: Process, output: OutputBuffer, exitTime: ExitTime
    ) {
        self.directory = directory
        self.certificates = certificates
        self.httpAddress = httpAddress
        self.streamAddress = streamAddress
        self.adminAddress = adminAddress
        self.process = process
        self.output = output
        self.exitTime = exitTime
    }

    var httpPort: Int { Int(httpAddress.split(separator: ":").last!)! }
    var log: String { output.text }
    var isRunning: Bool { process.isRunning }

    /// SIGTERM, then wait for exit; returns the exit status. Removes the temp directory unless `keepFiles`.
    @discardableResult
    func stop(keepFiles: Bool = false) async -> Int32 {
        if process.isRunning { process.terminate() }
        _ = await eventually(within: .seconds(30)) { !process.isRunning }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        _ = await eventually(within: .seconds(10)) { exitTime.instant != nil }
        if !keepFiles { try? FileManager.default.removeItem(atPath: directory) }
        return process.terminationStatus
    }

    static func logfmtFields(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        for token in line.split(separator: " ") {
            guard let equals = token.firstIndex(of: "=") else { continue }
            fields[String(token[..<equals])] = String(token[token.index(after: equals)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return fields
    }

    enum DaemonError: Error, CustomStringConvertible {
        case exited(status: Int32, log: String)
        case notReady(log: String)

        var description: String {
            switch self {
            case .exited(let status, let log): return "journeyd exited with status \(status) before it was ready:\n\(log)"
            case .notReady(let log): return "journeyd did not log msg=ready within 60 s:\n\(log)"
            }
        }
    }
}

/// The daemon's combined output, appended from the pipe's reader thread.
final class OutputBuffer: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    private let ended = Atomic(false)

    func append(_ data: Data) {
        bytes.withLock { $0 += data }
    }

    /// The pipe reached its end: every byte the process wrote is in `text`.
    func end() { ended.store(true, ordering: .releasing) }

    var isEnded: Bool { ended.load(ordering: .acquiring) }

    /// Waits (up to `timeout`) until the pipe reached its end, so that the lines a process wrote
    /// just before it exited are in `text`.
    func waitForEnd(timeout: Duration = .seconds(10)) async {
        _ = await eventually(within: timeout) { isEnded }
    }

    var text: String { bytes.withLock { String(decoding: $0, as: UTF8.self) } }
}

/// When a process exited, stored from the thread Foundation runs its termination handler on.
final class ExitTime: Sendable {
    private let recorded = Mutex<ContinuousClock.Instant?>(nil)

    func record() { recorded.withLock { $0 = ContinuousClock.now } }

    var instant: ContinuousClock.Instant? { recorded.withLock { $0 } }
}

/// Checks `condition` every 10 ms until it holds or `timeout` has passed; returns whether it held.
func eventually(within timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return true
}
