import Foundation
import JourneySimulation

/// The output of `journeyctl score`: a table, or (`--json`) one JSON object with snake_case keys.
struct ScoreReport {
    var evaluation: StitchingEvaluation
    var snapshot: String
    var truth: String
    /// Bytes of all stored touchpoints' `properties`, for the memory-per-touchpoint figure.
    var propertiesBytes: Int

    private var propertiesMean: Double {
        evaluation.storedRows > 0 ? Double(propertiesBytes) / Double(evaluation.storedRows) : 0
    }

    var json: String {
        let e = evaluation
        func clustering(_ c: StitchingEvaluation.Clustering) -> [String: Any?] {
            [
                "precision": c.pairs.precision, "recall": c.pairs.recall, "f1": c.pairs.f1, "clusters": c.clusters,
                "households_merged": c.householdsMerged, "true_pairs": c.pairs.truePairs, "predicted_pairs": c.pairs.predictedPairs,
                "agreeing_pairs": c.pairs.agreeingPairs,
            ]
        }
        let events: [String: Any?] = [
            "sent": e.sent, "delivered": e.delivered, "stored_rows": e.storedRows, "matched": e.matched, "lost": e.lost,
            "duplicated": e.duplicated, "unexpected": e.unexpected,
        ]
        return JSONText.object([
            "snapshot": snapshot, "truth": truth, "events": events, "customers": e.customers, "households": e.households,
            "properties_bytes_mean": propertiesMean, "journeyd": clustering(e.journeyd), "connected_components": clustering(e.connectedComponents),
        ])
    }

    var text: String {
        let e = evaluation
        var lines: [String] = []
        func row(_ name: String, _ values: String...) {
            lines.append("  " + TextFormat.pad(name, 22) + values.map { TextFormat.padLeft($0, 14) }.joined(separator: "  "))
        }
        func ratio(_ value: Double) -> String { String(format: "%.4f", value) }
        lines.append("journeyctl score: \((snapshot as NSString).lastPathComponent) against \(truth)")
        lines.append("events")
        row("sent (unique)", TextFormat.number(e.sent))
        row("deliveries", TextFormat.number(e.delivered))
        row("stored rows", TextFormat.number(e.storedRows))
        row("lost", TextFormat.number(e.lost))
        row("duplicated", TextFormat.number(e.duplicated))
        if e.unexpected > 0 { row("not in the truth", TextFormat.number(e.unexpected)) }
        lines.append("stitching (pairs of events of one customer)")
        row("", "journeyd", "conn. comp.")
        row("precision", ratio(e.journeyd.pairs.precision), ratio(e.connectedComponents.pairs.precision))
        row("recall", ratio(e.journeyd.pairs.recall), ratio(e.connectedComponents.pairs.recall))
        row("F1", ratio(e.journeyd.pairs.f1), ratio(e.connectedComponents.pairs.f1))
        row("profiles / components", TextFormat.number(e.journeyd.clusters), TextFormat.number(e.connectedComponents.clusters))
        row("true customers", TextFormat.number(e.customers), TextFormat.number(e.customers))
        row("households merged", "\(e.journeyd.householdsMerged) of \(e.households)", "\(e.connectedComponents.householdsMerged) of \(e.households)")
        lines.append(String(format: "properties per stored touchpoint: %.0f B on average", propertiesMean))
        return lines.joined(separator: "\n")
    }
}
