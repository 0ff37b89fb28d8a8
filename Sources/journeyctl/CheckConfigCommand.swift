import ArgumentParser
import Foundation
import JourneyServer

/// `journeyctl check-config FILE`: the same validation as `journeyd --check-config`.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a journeyd config file: exit 0 when usable, 78 naming the bad key.")

    @Argument(help: "The YAML configuration file.")
    var file: String

    func run() throws {
        do {
            let configuration = try ConfigurationLoader.loadChecked(path: file)
            print("\(file): valid (\(configuration.sources.count) sources)")
        } catch {
            FileHandle.standardError.write(Data("journeyctl: config error: \(error.description)\n".utf8))
            throw ExitCode(78)
        }
    }
}
