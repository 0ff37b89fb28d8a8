import JourneyCore

/// `journeyctl score`'s numbers: what a snapshot holds of the events a simulation sent, and how
/// well journeyd stitched them compared with the ground truth and with a plain connected-components
/// stitching of the same events (docs/SIMULATE.md, "Scoring").
///
/// Events are matched by (source, message id), journeyd's dedup key. Both clusterings are scored
/// over the events the snapshot holds, so a lost event lowers neither: loss is its own figure.
public struct StitchingEvaluation: Sendable, Equatable {
    /// How one clustering of the stored events compares with the truth.
    public struct Clustering: Sendable, Equatable {
        public var pairs: PairCounts
        public var clusters: Int
        /// Households (two customers sharing a device) whose customers are mostly in one cluster.
        public var householdsMerged: Int
    }

    /// Unique events in the ground truth.
    public var sent: Int
    /// Deliveries, duplicates included.
    public var delivered: Int
    /// Touchpoint rows in the snapshot.
    public var storedRows: Int
    /// Ground-truth events stored at least once.
    public var matched: Int
    public var lost: Int
    /// Rows beyond the first for one (source, message id).
    public var duplicated: Int
    /// Rows the ground truth does not know (other traffic in the same daemon).
    public var unexpected: Int
    public var customers: Int
    public var households: Int
    public var journeyd: Clustering
    public var connectedComponents: Clustering

    /// Compares `stored` (the snapshot's touchpoints) with `truth`. Identifier values of the
    /// baseline are normalised by `normaliser` (journeyd's rules and junk-value blocklist).
    public static func evaluate(truth: [GroundTruthRecord], stored: [StoredTouchpoints.Row], normaliser: IdentifierNormaliser = IdentifierNormaliser()) -> StitchingEvaluation {
        var index: [String: Int] = [:]
        index.reserveCapacity(truth.count)
        for (position, record) in truth.enumerated() { index[key(record.source, record.messageID)] = position }

        var profileLabels: [String: Int] = [:]
        var predicted = [Int](repeating: -1, count: truth.count)
        var duplicated = 0
        var unexpected = 0
        for row in stored {
            guard let position = index[key(row.source, row.messageID)] else {
                unexpected += 1
                continue
            }
            guard predicted[position] < 0 else {
                duplicated += 1
                continue
            }
            let label = profileLabels[row.profileID] ?? profileLabels.count
            profileLabels[row.profileID] = label
            predicted[position] = label
        }

        var customerLabels: [String: Int] = [:]
        var matchedTruth: [Int] = []
        var matchedPredicted: [Int] = []
        var matchedHouseholds: [Int?] = []
        var matchedIdentifiers: [[String]] = []
        for (position, record) in truth.enumerated() {
            let customer = customerLabels[record.customer] ?? customerLabels.count
            customerLabels[record.customer] = customer
            guard predicted[position] >= 0 else { continue }
            matchedTruth.append(customer)
            matchedPredicted.append(predicted[position])
            matchedHouseholds.append(record.household)
            matchedIdentifiers.append(record.identifiers.compactMap { raw in
                normaliser.normalise(raw.value, as: IdentifierType(rawValue: raw.type)).map { $0.type.rawValue + "\u{0}" + $0.value }
            })
        }
        let components = ConnectedComponents.labels(of: matchedIdentifiers)
        func clustering(_ labels: [Int]) -> Clustering {
            Clustering(
                pairs: PairCounts(truth: matchedTruth, predicted: labels), clusters: Set(labels).count,
                householdsMerged: householdsMerged(customers: matchedTruth, households: matchedHouseholds, clusters: labels))
        }
        return StitchingEvaluation(
            sent: truth.count, delivered: truth.reduce(0) { $0 + $1.deliveries }, storedRows: stored.count, matched: matchedTruth.count,
            lost: truth.count - matchedTruth.count, duplicated: duplicated, unexpected: unexpected, customers: customerLabels.count,
            households: Set(truth.compactMap(\.household)).count, journeyd: clustering(matchedPredicted),
            connectedComponents: clustering(components))
    }

    /// Households whose two customers are mostly in one cluster: the cluster holding most of one
    /// customer's events also holds most of the other's. (A few events of one customer in the
    /// other's profile — the tablet used before logging in — cost precision, not a merge.)
    static func householdsMerged(customers: [Int], households: [Int?], clusters: [Int]) -> Int {
        var counts: [Int: [Int: Int]] = [:]
        var householdOf: [Int: Int] = [:]
        for position in customers.indices {
            guard let household = households[position] else { continue }
            householdOf[customers[position]] = household
            counts[customers[position], default: [:]][clusters[position], default: 0] += 1
        }
        var main: [Int: [Int]] = [:]
        for (customer, byCluster) in counts {
            let top = byCluster.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!.key
            main[householdOf[customer]!, default: []].append(top)
        }
        return main.values.count { $0.count == 2 && $0[0] == $0[1] }
    }

    private static func key(_ source: String, _ messageID: String) -> String {
        source + "\u{0}" + messageID
    }
}
