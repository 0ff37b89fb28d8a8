import ArgumentParser
import Foundation

/// A size on the command line: plain bytes or a number with a unit, as in journeyd's config
/// (KB/MB/GB = 1000^n, KiB/MiB/GiB = 1024^n): `16777216`, `16MiB`, `256KiB`.
struct ByteSizeArgument: ExpressibleByArgument, Sendable {
    let bytes: Int

    init(bytes: Int) {
        self.bytes = bytes
    }

    init?(argument: String) {
        let units: [(suffix: String, factor: Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        let text = argument.trimmingCharacters(in: .whitespaces)
        let unit = units.first { text.hasSuffix($0.suffix) }
        let number = unit.map { String(text.dropLast($0.suffix.count)).trimmingCharacters(in: .whitespaces) } ?? text
        guard let value = Int(number), value >= 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit?.factor ?? 1)
        guard !overflow else { return nil }
        self.bytes = bytes
    }

    var defaultValueDescription: String { TextFormat.bytes(bytes) }
}
