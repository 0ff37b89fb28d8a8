/// The benchmark's output: one row per measurement with its target, printed as an aligned text
/// table (or Markdown with `--markdown`), followed by notes.
struct ResultTable {
    struct Row {
        var benchmark: String
        var measurement: String
        var value: String
        var target: String
        /// nil: informational, no target.
        var met: Bool?
    }

    private(set) var rows: [Row] = []
    private(set) var notes: [String] = []

    mutating func add(_ benchmark: String, _ measurement: String, _ value: String, target: String = "", met: Bool? = nil) {
        rows.append(Row(benchmark: benchmark, measurement: measurement, value: value, target: target, met: met))
    }

    mutating func note(_ text: String) {
        notes.append(text)
    }

    private static let header = ["benchmark", "measurement", "value", "target", "status"]

    private func cells(_ row: Row) -> [String] {
        [row.benchmark, row.measurement, row.value, row.target, row.met.map { $0 ? "ok" : "MISSED" } ?? ""]
    }

    func render(markdown: Bool) -> String {
        let body = rows.map(cells)
        var out = ""
        if markdown {
            out += "| " + Self.header.joined(separator: " | ") + " |\n"
            out += "| --- | --- | ---: | --- | --- |\n"
            for cells in body { out += "| " + cells.joined(separator: " | ") + " |\n" }
        } else {
            var widths = Self.header.map(\.count)
            for cells in body {
                for (index, cell) in cells.enumerated() { widths[index] = max(widths[index], cell.count) }
            }
            func line(_ cells: [String]) -> String {
                cells.enumerated().map { index, cell in
                    let padding = String(repeating: " ", count: widths[index] - cell.count)
                    return index == 2 ? padding + cell : cell + padding  // numbers right-aligned
                }.joined(separator: "  ").trimmingTrailingSpaces()
            }
            out += line(Self.header) + "\n"
            out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
            var previous = ""
            for (row, cells) in zip(rows, body) {
                var cells = cells
                if row.benchmark == previous { cells[0] = "" } else { previous = row.benchmark }
                out += line(cells) + "\n"
            }
        }
        if !notes.isEmpty {
            out += "\n"
            for note in notes { out += (markdown ? "- " : "* ") + note + "\n" }
        }
        return out
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
