import ArgumentParser
import Foundation
import JourneyCore
import JourneyServer

/// `journeyctl phases test`: which phase rule a sample event hits.
struct PhasesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phases",
        abstract: "Work with the phase rules (docs/PHASES.md).",
        subcommands: [PhasesTestCommand.self])
}

/// `journeyctl phases test [--config FILE] [--source NAME | --channel NAME] [EVENT]`: prints the
/// phase each sample event gets and the rule that decided it, using the config's `phases:` rules
/// before the built-in table exactly as the daemon does.
struct PhasesTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Show which phase rule sample events hit.",
        discussion: """
            EVENT is one event as JSON; without it, events are read from standard input, one JSON object per line. \
            The channel comes from --channel, or from the source named by --source in the config (default: the \
            config's first source; without --config, the channel "web"). Exits 1 if an event cannot be read.
            """)

    @Option(name: .long, help: ArgumentHelp("A journeyd config file whose phases: rules to use (default: the built-in table only).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Take the channel of this source of the config.", valueName: "name"))
    var source: String?

    @Option(name: .long, help: ArgumentHelp("The channel the events arrive on (web, mobile, call_center, …).", valueName: "name"))
    var channel: String?

    @Argument(help: "One event as JSON (otherwise: JSON lines on standard input).")
    var event: String?

    func validate() throws {
        if source != nil && channel != nil { throw ValidationError("give --source or --channel, not both") }
        if source != nil && config == nil { throw ValidationError("--source needs --config") }
    }

    func run() throws {
        let rules: PhaseRules
        var channel = self.channel ?? "web"
        if let config {
            let configuration: JourneydConfiguration
            do {
                configuration = try ConfigurationLoader.load(path: config)
            } catch {
                FileHandle.standardError.write(Data("journeyctl: config error: \(error.description)\n".utf8))
                throw ExitCode(78)
            }
            rules = configuration.phaseRules
            if let wanted = source {
                guard let found = configuration.sources.first(where: { $0.name == wanted }) else {
                    throw ValidationError("no source \(wanted) in \(config) (sources: \(configuration.sources.map(\.name).joined(separator: ", ")))")
                }
                channel = found.channel
            } else if self.channel == nil, let first = configuration.sources.first {
                channel = first.channel
            }
        } else {
            rules = PhaseRules()
        }
        let normaliser = EventNormaliser(settings: .init(phaseRules: rules))
        let lines = event.map { [$0] } ?? Array(AnyIterator { readLine() })
        var failed = false
        for (index, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            do {
                let item = try JSONDocument(bytes: Array(line.utf8)).root
                let (type, name, properties) = try normaliser.phaseInputs(item)
                let match = rules.firstMatch(type: type, event: name, channel: channel, properties: properties)
                print(Self.describe(type: type, name: name, channel: channel, match: match, rules: rules))
            } catch {
                FileHandle.standardError.write(Data("journeyctl: event \(index + 1): \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    static func describe(type: EventType, name: String?, channel: String, match: Int?, rules: PhaseRules) -> String {
        let what = "\(type.rawValue)\(name.map { " \"\($0)\"" } ?? "") on \(channel)"
        guard let match else { return "\(what): no phase (no rule matches)" }
        let rule = rules.rules[match]
        let origin = match < rules.operatorRuleCount
            ? "config rule \(match + 1) of \(rules.operatorRuleCount)"
            : "built-in rule \(match - rules.operatorRuleCount + 1) of \(rules.rules.count - rules.operatorRuleCount)"
        return "\(what): \(rule.phase.rawValue)  (\(origin): \(rule))"
    }
}
