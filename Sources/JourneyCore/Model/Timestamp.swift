/// A point in time as whole milliseconds since the Unix epoch, UTC.
///
/// journeyd keeps every time at millisecond precision (the snapshot format's precision); parsing
/// accepts RFC 3339 / ISO 8601 with 0–9 fractional digits and truncates below a millisecond.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// The first and last instants RFC 3339 can write (years 0000–9999). Parsing refuses
    /// anything outside them; formatting clamps to them.
    public static let earliest = Timestamp(millisecondsSinceEpoch: -62_167_219_200_000)  // 0000-01-01T00:00:00.000Z
    public static let latest = Timestamp(millisecondsSinceEpoch: 253_402_300_799_999)  // 9999-12-31T23:59:59.999Z

    /// Whether the instant has a four-digit year, so it can be written in RFC 3339.
    public var isRepresentable: Bool { self >= Timestamp.earliest && self <= Timestamp.latest }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public static func + (lhs: Timestamp, milliseconds: Int64) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: lhs.millisecondsSinceEpoch &+ milliseconds)
    }

    /// RFC 3339 UTC with milliseconds: `2026-11-23T04:19:36.123Z`.
    public var description: String { String(decoding: rfc3339Bytes, as: UTF8.self) }

    /// The RFC 3339 text as UTF-8 bytes (always 24 bytes: instants outside years 0000–9999 are
    /// clamped to `earliest` / `latest`, since the format cannot write them).
    public var rfc3339Bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.rfc3339Length) { buffer, count in
            writeRFC3339(to: buffer.baseAddress!)
            count = Self.rfc3339Length
        }
    }

    static let rfc3339Length = 24

    /// Writes the 24 bytes of `rfc3339Bytes` at `out`, which must have room for them.
    func writeRFC3339(to out: UnsafeMutablePointer<UInt8>) {
        let millis = min(max(millisecondsSinceEpoch, Timestamp.earliest.millisecondsSinceEpoch), Timestamp.latest.millisecondsSinceEpoch)
        var days = millis / 86_400_000
        var msOfDay = millis % 86_400_000
        if msOfDay < 0 {
            msOfDay += 86_400_000
            days -= 1
        }
        let (year, month, day) = CivilCalendar.date(fromDaysSinceEpoch: days)
        func two(_ value: Int64, at offset: Int) {
            out[offset] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10)
            out[offset + 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
        }
        two(year / 100, at: 0)
        two(year % 100, at: 2)
        out[4] = UInt8(ascii: "-")
        two(month, at: 5)
        out[7] = UInt8(ascii: "-")
        two(day, at: 8)
        out[10] = UInt8(ascii: "T")
        two(msOfDay / 3_600_000, at: 11)
        out[13] = UInt8(ascii: ":")
        two(msOfDay / 60_000 % 60, at: 14)
        out[16] = UInt8(ascii: ":")
        two(msOfDay / 1000 % 60, at: 17)
        out[19] = UInt8(ascii: ".")
        let millisecond = msOfDay % 1000
        out[20] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: millisecond / 100)
        two(millisecond % 100, at: 21)
        out[23] = UInt8(ascii: "Z")
    }

    /// The UTC calendar date as `YYYY-MM-DD` (used to name daily files).
    public var utcDateString: String {
        String(decoding: rfc3339Bytes.prefix(10), as: UTF8.self)
    }

    /// Parses RFC 3339 / ISO 8601 date-time text: `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`.
    /// Returns nil for anything else, including impossible dates such as February 30 and instants
    /// that an offset moves outside years 0000–9999.
    public init?(rfc3339 text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Timestamp.parse($0) }) else { return nil }
        self = parsed
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        var index = 0
        @inline(__always)
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for offset in 0..<width {
                let byte = bytes[index + offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += width
            return value
        }
        // Not variadic: a variadic parameter is an array made for every call.
        @inline(__always)
        func expect(_ allowed: UInt8, or alternative: UInt8? = nil) -> Bool {
            guard index < bytes.count, bytes[index] == allowed || bytes[index] == alternative else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), expect(UInt8(ascii: "T"), or: UInt8(ascii: "t")),
            let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilCalendar.daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var millis: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var fractionDigits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if fractionDigits < 3 { millis = millis * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                fractionDigits += 1
                index += 1
            }
            guard (1...9).contains(fractionDigits) else { return nil }
            if fractionDigits < 3 {
                for _ in fractionDigits..<3 { millis *= 10 }
            }
        }
        var offsetMinutes: Int64 = 0
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(UInt8(ascii: ":")), let offsetMins = number(2),
                offsetHours <= 23, offsetMins <= 59
            else { return nil }
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = CivilCalendar.daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + min(second, 59) - offsetMinutes * 60
        let parsed = Timestamp(millisecondsSinceEpoch: seconds * 1000 + millis)
        return parsed.isRepresentable ? parsed : nil
    }
}

/// Proleptic Gregorian calendar arithmetic (Howard Hinnant's days-from-civil algorithms).
enum CivilCalendar {
    static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func date(fromDaysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPosition = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPosition + 2) / 5 + 1
        let month = monthPosition < 10 ? monthPosition + 3 : monthPosition - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
