import Foundation

/// A finished run of one of the built binaries (journeyd, journeyctl) with its exit status and output.
struct CommandRun {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Runs `executable` to completion. `JOURNEYD_*` variables of the test process are dropped so
    /// that only `environment` can override config keys.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> CommandRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("JOURNEYD_") }.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

extension CommandRun {
    /// `run` for async tests: the command is waited for on a thread of its own, not on one of
    /// the few threads that run the suite's tasks (two on a two-core machine). Held there, it
    /// kept every other test's task waiting, including the ones watching a daemon's log.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil) async throws -> CommandRun {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try run(executable, arguments, environment: environment, directory: directory) })
            }.start()
        }
    }
}
