import ArgumentParser
import Foundation
import JourneyServer
import Logging

/// `journeyd [--config FILE] [--check-config]`: the daemon's entry point.
@main
struct JourneydCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journeyd",
        abstract: "Unifies customer touchpoints from every channel into ordered journeys.",
        discussion: "Without --config it starts on safe local defaults (loopback listeners, ./journeyd-state, a generated dev certificate).")

    /// sysexits.h EX_CONFIG: the configuration is unusable.
    static let configurationErrorExitCode: Int32 = 78

    @Option(name: .long, help: "The YAML configuration file (see config/journeyd.yaml).")
    var config: String?

    @Flag(name: .customLong("check-config"), help: "Validate the configuration and exit: 0 when usable, 78 naming the bad key.")
    var checkConfig = false

    @Flag(name: .customLong("wal-skip-corrupt"), help: "Drop damaged WAL records found in the middle of the log instead of refusing to start (they are logged).")
    var walSkipCorrupt = false

    func run() async throws {
        if checkConfig {
            guard let config else {
                FileHandle.standardError.write(Data("journeyd: --check-config needs --config FILE\n".utf8))
                throw ExitCode(64)
            }
            let configuration = try loadOrExit(config)
            FileHandle.standardError.write(Data("journeyd: \(config) is valid (\(configuration.sources.count) sources)\n".utf8))
            return
        }
        if let config {
            let configuration = try loadOrExit(config)
            let logLevel = LogLineHandler.bootstrap(
                format: configuration.logging.format, level: Logger.Level(rawValue: configuration.logging.level.rawValue) ?? .info)
            var application = JourneydApplication(configuration: configuration)
            application.configurationPath = config
            application.logLevel = logLevel
            application.skipCorruptWAL = walSkipCorrupt
            application.jemallocVersion = ProcessAllocator.jemallocVersion()
            try await application.run()
        } else {
            let prepared = try LocalDevelopmentSetup.prepare()
            LogLineHandler.bootstrap(format: prepared.configuration.logging.format, level: .info)
            var application = JourneydApplication(configuration: prepared.configuration)
            application.skipCorruptWAL = walSkipCorrupt
            application.jemallocVersion = ProcessAllocator.jemallocVersion()
            application.onReady = { addresses in
                FileHandle.standardOutput.write(Data(LocalDevelopmentSetup.banner(prepared, http: addresses["http"]!, stream: addresses["stream"]!, admin: addresses["admin"]!).utf8))
            }
            try await application.run()
        }
    }

    private func loadOrExit(_ path: String) throws -> JourneydConfiguration {
        do {
            return try ConfigurationLoader.loadChecked(path: path)
        } catch {
            FileHandle.standardError.write(Data("journeyd: config error: \(error.description)\n".utf8))
            throw ExitCode(Self.configurationErrorExitCode)
        }
    }
}
