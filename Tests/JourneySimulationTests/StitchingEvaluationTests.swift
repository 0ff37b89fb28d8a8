import JourneyCore
import Testing
@testable import JourneySimulation

/// Score arithmetic on hand-made partitions with known answers, and the connected-components
/// baseline.
@Suite("StitchingEvaluation")
struct StitchingEvaluationTests {
    @Test func pairCountsOfAKnownContingencyTable() {
        // Truth {a,a,a,b,b}, prediction {x,x,y,y,y}: true pairs 3+1 = 4, predicted pairs 1+3 = 4,
        // agreeing pairs: (a,x)×2 → 1, (a,y)×1 → 0, (b,y)×2 → 1 — 2 in all.
        let counts = PairCounts(truth: [0, 0, 0, 1, 1], predicted: [7, 7, 9, 9, 9])
        #expect(counts == PairCounts(truePairs: 4, predictedPairs: 4, agreeingPairs: 2))
        #expect(counts.precision == 0.5)
        #expect(counts.recall == 0.5)
        #expect(counts.f1 == 0.5)
    }

    @Test func overMergingCostsPrecisionAndSplittingCostsRecall() {
        let merged = PairCounts(truth: [0, 0, 1, 1], predicted: [5, 5, 5, 5])
        #expect(merged.precision == 2.0 / 6.0)
        #expect(merged.recall == 1)
        let split = PairCounts(truth: [0, 0, 0, 0], predicted: [1, 1, 2, 3])
        #expect(split.precision == 1)
        #expect(split.recall == 1.0 / 6.0)
        #expect(abs(split.f1 - 2.0 / 7.0) < 1e-12)
        let singletons = PairCounts(truth: [0, 1, 2], predicted: [0, 1, 2])
        #expect(singletons.precision == 1 && singletons.recall == 1 && singletons.f1 == 1)
    }

    @Test func connectedComponentsLinkTransitively() {
        let labels = ConnectedComponents.labels(of: [["a"], ["b"], ["a", "c"], ["c", "b"], ["d"], []])
        #expect(labels[0] == labels[1] && labels[1] == labels[2] && labels[2] == labels[3])
        #expect(labels[4] != labels[0])
        #expect(labels[5] != labels[0] && labels[5] != labels[4])
    }

    static func record(_ id: String, _ customer: String, household: Int? = nil, deliveries: Int = 1, _ identifiers: [(String, String)]) -> GroundTruthRecord {
        GroundTruthRecord(
            messageID: id, source: "website", customer: customer, household: household, deliveries: deliveries,
            identifiers: identifiers.map { RawIdentifier(type: $0.0, value: $0.1) })
    }

    @Test func evaluationCountsLossDuplicatesAndHouseholds() {
        // Ada and Bob share the tablet "tab" (household 1); Cy uses "null" as a user id (junk).
        let truth = [
            Self.record("m1", "ada", household: 1, [("user_id", "ada"), ("anonymous_id", "tab")]),
            Self.record("m2", "ada", household: 1, [("user_id", "ada")]),
            Self.record("m3", "bob", household: 1, deliveries: 2, [("user_id", "bob"), ("anonymous_id", "tab")]),
            Self.record("m4", "cy", [("anonymous_id", "cy-phone"), ("user_id", "null")]),
            Self.record("m5", "dee", [("anonymous_id", "dee-laptop"), ("user_id", " NULL ")]),
            Self.record("m6", "dee", [("email", "Dee@Example.com")]),
            Self.record("m7", "dee", [("email", "dee@example.com"), ("anonymous_id", "dee-laptop")]),
        ]
        let stored = [
            StoredTouchpoints.Row(source: "website", messageID: "m1", profileID: "p_ada"),
            StoredTouchpoints.Row(source: "website", messageID: "m2", profileID: "p_ada"),
            StoredTouchpoints.Row(source: "website", messageID: "m3", profileID: "p_bob"),
            StoredTouchpoints.Row(source: "website", messageID: "m3", profileID: "p_bob"),
            StoredTouchpoints.Row(source: "website", messageID: "m4", profileID: "p_cy"),
            StoredTouchpoints.Row(source: "website", messageID: "m5", profileID: "p_dee"),
            StoredTouchpoints.Row(source: "website", messageID: "m7", profileID: "p_dee"),
            StoredTouchpoints.Row(source: "app", messageID: "m1", profileID: "p_other"),
        ]
        let evaluation = StitchingEvaluation.evaluate(truth: truth, stored: stored)
        #expect(evaluation.sent == 7)
        #expect(evaluation.delivered == 8)
        #expect(evaluation.storedRows == 8)
        #expect(evaluation.matched == 6)
        #expect(evaluation.lost == 1)
        #expect(evaluation.duplicated == 1)
        #expect(evaluation.unexpected == 1)
        #expect(evaluation.customers == 4)
        #expect(evaluation.households == 1)
        // journeyd kept every customer apart: perfect on the stored events.
        #expect(evaluation.journeyd.pairs == PairCounts(truePairs: 2, predictedPairs: 2, agreeingPairs: 2))
        #expect(evaluation.journeyd.householdsMerged == 0)
        #expect(evaluation.journeyd.clusters == 4)
        // Connected components join Ada and Bob through the tablet; "null" links nobody.
        #expect(evaluation.connectedComponents.pairs == PairCounts(truePairs: 2, predictedPairs: 4, agreeingPairs: 2))
        #expect(evaluation.connectedComponents.householdsMerged == 1)
        #expect(evaluation.connectedComponents.clusters == 3)
    }

    @Test func aHouseholdIsMergedWhenBothCustomersAreMostlyInOneCluster() {
        // Household 10: both mostly in cluster 5. Household 11: customer 3's one tablet event
        // sits in customer 2's cluster 7, but each is mostly in its own cluster.
        let merged = StitchingEvaluation.householdsMerged(
            customers: [0, 1, 0, 1, 0, 2, 2, 3, 3, 3], households: [10, 10, 10, 10, 10, 11, 11, 11, 11, 11],
            clusters: [5, 5, 5, 5, 6, 7, 7, 7, 8, 8])
        #expect(merged == 1)
    }

    /// A simulation of 300 customers scored as if journeyd had found every customer exactly, so
    /// only the connected-components figures say anything.
    static func scoreOfTheTruth(seed: UInt64, sharedDeviceRate: Double) throws -> StitchingEvaluation {
        var settings = SimulationSettings(seed: seed, customers: 300)
        settings.rates.sharedDevice = sharedDeviceRate
        let corpus = try SimulatedCorpus.generate(settings)
        let stored = corpus.events.map { StoredTouchpoints.Row(source: $0.source.name, messageID: $0.messageID, profileID: "p" + String($0.customer)) }
        return StitchingEvaluation.evaluate(truth: corpus.events.map(GroundTruthRecord.init), stored: stored)
    }

    /// Without shared devices the simulated identifiers link each customer's events and nothing
    /// else: connected components then find the truth exactly, so every miss of journeyd's in a
    /// full score is the hard cases', not the generator's.
    @Test func withoutSharedDevicesConnectedComponentsFindTheTruth() throws {
        let evaluation = try Self.scoreOfTheTruth(seed: 3, sharedDeviceRate: 0)
        #expect(evaluation.connectedComponents.pairs.precision == 1)
        #expect(evaluation.connectedComponents.pairs.recall == 1)
        #expect(evaluation.connectedComponents.clusters == evaluation.customers)
    }

    @Test func sharedDevicesMergeHouseholdsInConnectedComponents() throws {
        let evaluation = try Self.scoreOfTheTruth(seed: 4, sharedDeviceRate: 0.5)
        #expect(evaluation.households > 40)
        #expect(evaluation.connectedComponents.householdsMerged == evaluation.households)
        #expect(evaluation.connectedComponents.pairs.precision < 0.9)
        #expect(evaluation.journeyd.householdsMerged == 0)
    }
}
