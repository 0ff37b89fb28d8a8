/// Pairwise agreement between a true clustering and a predicted one, from contingency counts:
/// with `n_ij` items in true cluster i and predicted cluster j, `a_i = Σ_j n_ij` and
/// `b_j = Σ_i n_ij`, the pairs the truth puts together are `Σ C(a_i, 2)`, the pairs the prediction
/// puts together `Σ C(b_j, 2)`, and the pairs both put together `Σ C(n_ij, 2)` — O(n) instead of
/// looking at O(n²) pairs. Precision = agreeing / predicted, recall = agreeing / true.
public struct PairCounts: Sendable, Equatable {
    public var truePairs: Int
    public var predictedPairs: Int
    public var agreeingPairs: Int

    public init(truePairs: Int, predictedPairs: Int, agreeingPairs: Int) {
        self.truePairs = truePairs
        self.predictedPairs = predictedPairs
        self.agreeingPairs = agreeingPairs
    }

    /// Counts the pairs of items labelled `truth[k]` and `predicted[k]` (equal-length arrays of
    /// cluster labels, each below 2³²).
    public init(truth: [Int], predicted: [Int]) {
        precondition(truth.count == predicted.count, "one true and one predicted label per item")
        var rows: [Int: Int] = [:]
        var columns: [Int: Int] = [:]
        var cells: [Int: Int] = [:]
        for (t, p) in zip(truth, predicted) {
            rows[t, default: 0] += 1
            columns[p, default: 0] += 1
            cells[t << 32 | p, default: 0] += 1
        }
        func pairs(_ counts: [Int: Int]) -> Int { counts.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 } }
        self.init(truePairs: pairs(rows), predictedPairs: pairs(columns), agreeingPairs: pairs(cells))
    }

    /// 1 when the prediction joins no pairs (nothing it joined is wrong).
    public var precision: Double { predictedPairs == 0 ? 1 : Double(agreeingPairs) / Double(predictedPairs) }
    /// 1 when the truth has no pairs (nothing to find).
    public var recall: Double { truePairs == 0 ? 1 : Double(agreeingPairs) / Double(truePairs) }
    public var f1: Double {
        let sum = precision + recall
        return sum == 0 ? 0 : 2 * precision * recall / sum
    }
}
