import Foundation
import JourneyCore
import Testing
@testable import JourneySimulation

/// The simulator: same seed, same bytes; hard cases at their configured rates; every event valid
/// for journeyd's normaliser and carrying exactly the identifiers the ground truth records.
@Suite("SimulatedCorpus")
struct SimulatedCorpusTests {
    static let settings = SimulationSettings(seed: 7, customers: 400)
    static let corpus = try! SimulatedCorpus.generate(settings)

    /// journeyd's normaliser configured as `DaemonConfigFragment` configures a daemon.
    static let normaliser = EventNormaliser(settings: .init(customIdentifiers: [
        CustomIdentifierPath(type: IdentifierType(rawValue: "loyalty_id"), paths: DaemonConfigFragment.loyaltyPaths)
    ]))

    @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
        let again = try SimulatedCorpus.generate(Self.settings)
        #expect(again.events.map(\.json) == Self.corpus.events.map(\.json))
        #expect(again.deliveries == Self.corpus.deliveries)
        var other = Self.settings
        other.seed = 8
        #expect(try SimulatedCorpus.generate(other).events.map(\.json) != Self.corpus.events.map(\.json))
    }

    @Test func everyEventIsValidAndCarriesTheRecordedIdentifiers() throws {
        let reader = IdentifierNormaliser()
        for event in Self.corpus.events {
            let document = try JSONDocument(bytes: event.json)
            let envelope = EventNormaliser.Envelope(
                source: SourceInfo(name: event.source.name, channel: event.source.channel), receivedAt: Self.settings.end)
            let normalised = try Self.normaliser.normalise(document.root, envelope: envelope)
            #expect(normalised.messageID == event.messageID)
            let expected = Set(event.identifiers.compactMap { reader.normalise($0.value, as: IdentifierType(rawValue: $0.type)) })
            #expect(Set(normalised.identifiers) == expected, "\(String(decoding: event.json, as: UTF8.self))")
        }
    }

    @Test func messageIDsAreUniquePerSource() {
        let keys = Self.corpus.events.map { $0.source.name + "/" + $0.messageID }
        #expect(Set(keys).count == keys.count)
    }

    @Test func everySourceAndPhaseOccurs() throws {
        #expect(Set(Self.corpus.events.map(\.source)) == Set(SimulatedSource.allCases))
        let phases = try Set(Self.corpus.events.compactMap { event in
            try Self.normaliser.normalise(
                JSONDocument(bytes: event.json).root,
                envelope: .init(source: SourceInfo(name: event.source.name, channel: event.source.channel), receivedAt: Self.settings.end)
            ).phase
        })
        #expect(phases == Set(Phase.allCases))
    }

    @Test func hardCasesOccurAtTheirRates() {
        let events = Self.corpus.events
        let rates = Self.settings.rates
        let duplicated = Double(events.count { $0.deliveries == 2 }) / Double(events.count)
        #expect(abs(duplicated - rates.duplicate) < 0.004)
        #expect(Self.corpus.deliveries.count == events.count + events.count { $0.deliveries == 2 })
        let junk = Double(events.count { $0.identifiers.contains { IdentifierNormaliser().normalise($0.value, as: IdentifierType(rawValue: $0.type)) == nil } }) / Double(events.count)
        #expect(abs(junk - rates.junk) < 0.006)
        let households = Set(events.compactMap(\.household)).count
        #expect(abs(Double(households) / 200 - rates.sharedDevice) < 0.04)
        #expect(households > 0)
        // Out of order: an event delivered after one of the same customer that happened later.
        var position: [Int: Int] = [:]
        for (rank, index) in Self.corpus.deliveries.enumerated() where position[index] == nil { position[index] = rank }
        let byCustomer = Dictionary(grouping: events.indices, by: { events[$0].customer })
        let late = events.indices.count { index in
            byCustomer[events[index].customer, default: []].contains { other in
                events[other].time > events[index].time + 3_600_000 && position[other]! < position[index]!
            }
        }
        #expect(late > 0)
    }

    @Test func skewedClocksShiftTimestampAndSentAtAlike() throws {
        let population = SimulatedPopulation(settings: Self.settings)
        let skewed = (0..<Self.settings.customers).lazy.map(population.customer).first { $0.devices.contains { $0.skew != 0 } }
        let customer = try #require(skewed)
        let device = try #require(customer.devices.first { $0.skew != 0 })
        let event = try #require(Self.corpus.events.first { event in
            event.customer == customer.index && event.identifiers.contains { $0.value == device.anonymousID }
        })
        let root = try JSONDocument(bytes: event.json).root
        let sentAt = try #require(root["sentAt"]?.string.flatMap(Timestamp.init(rfc3339:)))
        let timestamp = try #require((root["originalTimestamp"] ?? root["timestamp"])?.string.flatMap(Timestamp.init(rfc3339:)))
        #expect(sentAt.millisecondsSinceEpoch == Self.settings.end.millisecondsSinceEpoch + device.skew)
        #expect(timestamp.millisecondsSinceEpoch == event.time + device.skew)
    }

    @Test func sentAtShiftMovesOnlyTheLastMember() throws {
        func sentAt(_ line: [UInt8]) throws -> Timestamp? {
            try JSONDocument(bytes: line).root["sentAt"]?.string.flatMap(Timestamp.init(rfc3339:))
        }
        var line = Self.corpus.events[0].json
        let before = try #require(try sentAt(line))
        try SentAtStamp.shift(&line, by: 86_400_000)
        #expect(try sentAt(line) == before + 86_400_000)
        #expect(line.dropLast(26) == Self.corpus.events[0].json.dropLast(26))
        var bad = Array("{\"a\":1}".utf8)
        #expect(throws: SimulationError.self) { try SentAtStamp.shift(&bad, by: 1) }
    }

    @Test func filesRoundTripTheGroundTruth() throws {
        let directory = NSTemporaryDirectory() + "simulation-files-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SimulationFiles.write(Self.corpus, to: directory, keyPrefix: "test", includeEvents: true)
        let records = try GroundTruthRecord.readAll(path: directory)
        #expect(records == Self.corpus.events.map(GroundTruthRecord.init))
        let yaml = try String(contentsOfFile: directory + "/" + SimulationFiles.configFile, encoding: .utf8)
        #expect(yaml.contains("write_key: \"test-call-centre-write-key\", stream_write_key: true"))
        #expect(yaml.contains("custom: [{ type: loyalty_id, paths: [traits.loyaltyId, properties.loyalty_id] }]"))
        for source in SimulatedSource.allCases {
            #expect(FileManager.default.fileExists(atPath: directory + "/" + SimulationFiles.eventsFile(source)))
        }
        #expect(throws: SimulationError.self) { try GroundTruthRecord.readAll(path: directory + "/missing") }
    }

    @Test func invalidSettingsAreNamed() {
        var settings = Self.settings
        settings.rates.junk = 1.5
        #expect(throws: SimulationError.invalidSetting("--junk-rate must lie between 0 and 1, not 1.5")) { try settings.validate() }
        settings = Self.settings
        settings.customers = 0
        #expect(throws: SimulationError.self) { try SimulatedCorpus.generate(settings) }
    }
}
