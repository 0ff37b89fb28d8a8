import Testing
@testable import JourneyCore

@Suite("Timestamp")
struct TimestampTests {
    private func ms(_ text: String) -> Int64? { Timestamp(rfc3339: text)?.millisecondsSinceEpoch }

    // 2026-01-01T00:00:00Z: 56 years since 1970 with 14 leap days (1972…2024) = 20,454 days.
    private let newYear2026: Int64 = 20_454 * 86_400_000

    @Test func epochAndKnownInstants() {
        #expect(ms("1970-01-01T00:00:00Z") == 0)
        #expect(ms("1970-01-01T00:00:01Z") == 1000)
        #expect(ms("2026-01-01T00:00:00Z") == newYear2026)
        #expect(TestEvents.base == newYear2026)
        // 2000-03-01 follows the leap day of a year divisible by 400: 10,957 days to 2000-01-01, + 31 + 29.
        #expect(ms("2000-03-01T00:00:00Z") == Int64(10_957 + 60) * 86_400_000)
        // The largest signed 32-bit second count: the "2038 problem" instant.
        #expect(ms("2038-01-19T03:14:07Z") == 2_147_483_647_000)
    }

    @Test(arguments: [
        ("2026-01-01T00:00:00Z", 0),
        ("2026-01-01T00:00:00.1Z", 100),
        ("2026-01-01T00:00:00.12Z", 120),
        ("2026-01-01T00:00:00.123Z", 123),
        ("2026-01-01T00:00:00.1234Z", 123),
        ("2026-01-01T00:00:00.12345Z", 123),
        ("2026-01-01T00:00:00.123456Z", 123),
        ("2026-01-01T00:00:00.1234567Z", 123),
        ("2026-01-01T00:00:00.12345678Z", 123),
        ("2026-01-01T00:00:00.123456789Z", 123),
        ("2026-01-01T00:00:00.999999999Z", 999),
        ("2026-01-01T00:00:00.05Z", 50),
        ("2026-01-01T00:00:00.000000001Z", 0),
    ] as [(String, Int64)])
    func fractionDigitsZeroToNineTruncateToMilliseconds(text: String, millis: Int64) {
        #expect(ms(text) == newYear2026 + millis)
    }

    @Test func zoneDesignators() {
        let utc = ms("2026-01-01T12:00:00Z")
        #expect(utc == newYear2026 + 12 * 3_600_000)
        #expect(ms("2026-01-01T12:00:00z") == utc)
        #expect(ms("2026-01-01t12:00:00Z") == utc)
        #expect(ms("2026-01-01T12:00:00+00:00") == utc)
        #expect(ms("2026-01-01T12:00:00-00:00") == utc)
        // Local 14:30 at +02:30 is 12:00 UTC; local 07:15 at -04:45 is 12:00 UTC.
        #expect(ms("2026-01-01T14:30:00+02:30") == utc)
        #expect(ms("2026-01-01T07:15:00-04:45") == utc)
        // An offset can move the instant to another UTC day.
        #expect(ms("2026-01-01T00:30:00+01:00") == newYear2026 - 30 * 60_000)
        #expect(ms("2025-12-31T23:30:00-01:00") == newYear2026 + 30 * 60_000)
        #expect(ms("2026-01-01T12:00:00.250+05:00") == utc! - 5 * 3_600_000 + 250)
    }

    @Test(arguments: [
        "2026-02-30T00:00:00Z",  // February 30
        "2025-02-29T00:00:00Z",  // not a leap year
        "1900-02-29T00:00:00Z",  // divisible by 100, not by 400
        "2026-04-31T00:00:00Z",  // April has 30 days
        "2026-13-01T00:00:00Z",  // month 13
        "2026-00-10T00:00:00Z",  // month 0
        "2026-01-00T00:00:00Z",  // day 0
        "2026-01-32T00:00:00Z",
        "2026-01-01T24:00:00Z",  // hour 24
        "2026-01-01T12:60:00Z",
        "2026-01-01T12:00:61Z",
        "2026-01-01T12:00:00",  // missing zone
        "2026-01-01T12:00:00.123",  // missing zone after a fraction
        "2026-01-01T12:00:00.1234567891Z",  // 10 fraction digits
        "2026-01-01T12:00:00.Z",  // a dot without digits
        "2026-01-01T12:00Z",  // no seconds
        "2026-01-01 12:00:00Z",  // space instead of T
        "2026-01-01",  // date only
        "2026-1-01T12:00:00Z",
        "26-01-01T12:00:00Z",
        "2026-01-01T12:00:00+0100",  // offset without colon
        "2026-01-01T12:00:00+01",
        "2026-01-01T12:00:00+24:00",
        "2026-01-01T12:00:00+01:60",
        "2026-01-01T12:00:00ZZ",  // trailing garbage
        "2026-01-01T12:00:00Z ",
        " 2026-01-01T12:00:00Z",
        "+2026-01-01T12:00:00Z",
        "",
        "not a date",
    ])
    func invalidTextIsRefused(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func leapYears() {
        // 2024 and 2000 are leap years; 29 February exists and is followed by 1 March.
        let feb29 = ms("2024-02-29T00:00:00Z")
        #expect(feb29 != nil)
        #expect(ms("2024-03-01T00:00:00Z") == feb29.map { $0 + 86_400_000 })
        #expect(ms("2000-02-29T00:00:00Z") != nil)
        // In a common year 28 February is followed directly by 1 March.
        #expect(ms("2025-03-01T00:00:00Z")! - ms("2025-02-28T00:00:00Z")! == 86_400_000)
        // A leap year has 366 days, a common one 365.
        #expect(ms("2025-01-01T00:00:00Z")! - ms("2024-01-01T00:00:00Z")! == 366 * 86_400_000)
        #expect(ms("2026-01-01T00:00:00Z")! - ms("2025-01-01T00:00:00Z")! == 365 * 86_400_000)
        #expect(CivilCalendar.isLeap(2000) && CivilCalendar.isLeap(2024) && CivilCalendar.isLeap(1600))
        #expect(!CivilCalendar.isLeap(1900) && !CivilCalendar.isLeap(2100) && !CivilCalendar.isLeap(2025))
    }

    @Test func negativeEpochTimes() {
        #expect(ms("1969-12-31T23:59:59Z") == -1000)
        #expect(ms("1969-12-31T23:59:59.999Z") == -1)
        #expect(ms("1969-12-31T23:59:59.5Z") == -500)
        // 1900-01-01 is 70 years (17 leap days, 1904…1968) before the epoch.
        #expect(ms("1900-01-01T00:00:00Z") == Int64(-(70 * 365 + 17)) * 86_400_000)
        #expect(Timestamp(millisecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(millisecondsSinceEpoch: -86_400_000).description == "1969-12-31T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: -86_400_001).description == "1969-12-30T23:59:59.999Z")
        #expect(Timestamp(millisecondsSinceEpoch: -(70 * 365 + 17) * 86_400_000).description == "1900-01-01T00:00:00.000Z")
    }

    @Test func formatsRFC3339UTCWithMilliseconds() {
        #expect(Timestamp(millisecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: newYear2026 + 7).description == "2026-01-01T00:00:00.007Z")
        #expect(
            Timestamp(millisecondsSinceEpoch: newYear2026 - 1).description == "2025-12-31T23:59:59.999Z")
        #expect(Timestamp(millisecondsSinceEpoch: 0).rfc3339Bytes.count == 24)
        // An offset input is printed in UTC.
        #expect(Timestamp(rfc3339: "2026-06-15T09:30:00.5+02:00")?.description == "2026-06-15T07:30:00.500Z")
    }

    @Test func formatParseRoundTripOverManyInstants() {
        var rng = SplitMix64(seed: 0x7157)
        // Years 0001…9998, so every instant has a four-digit year.
        let low = ms("0001-01-01T00:00:00Z")!
        let high = ms("9998-12-31T23:59:59.999Z")!
        var samples: [Int64] = [low, high, 0, -1, 1, newYear2026, ms("2024-02-29T23:59:59.999Z")!]
        for _ in 0..<2000 { samples.append(Int64.random(in: low...high, using: &rng)) }
        for value in samples {
            let text = Timestamp(millisecondsSinceEpoch: value).description
            #expect(text.utf8.count == 24, "\(text)")
            #expect(Timestamp(rfc3339: text)?.millisecondsSinceEpoch == value, "\(value) → \(text)")
        }
    }

    @Test func civilCalendarRoundTripsDayNumbers() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let days = Int64.random(in: -800_000...3_000_000, using: &rng)
            let (year, month, day) = CivilCalendar.date(fromDaysSinceEpoch: days)
            #expect((1...12).contains(month))
            #expect(day >= 1 && day <= CivilCalendar.daysIn(month: month, year: year))
            #expect(CivilCalendar.daysSinceEpoch(year: year, month: month, day: day) == days)
        }
        // Consecutive days step through the calendar one day at a time.
        var previous = CivilCalendar.date(fromDaysSinceEpoch: -1)
        #expect(previous == (1969, 12, 31))
        for days in Int64(0)...800 {
            let current = CivilCalendar.date(fromDaysSinceEpoch: days)
            if current.day == 1 {
                #expect(previous.day == CivilCalendar.daysIn(month: previous.month, year: previous.year))
            } else {
                #expect(current.day == previous.day + 1 && current.month == previous.month)
            }
            previous = current
        }
    }

    @Test func utcDateString() {
        #expect(Timestamp(millisecondsSinceEpoch: 0).utcDateString == "1970-01-01")
        #expect(Timestamp(millisecondsSinceEpoch: newYear2026 - 1).utcDateString == "2025-12-31")
        #expect(Timestamp(millisecondsSinceEpoch: newYear2026).utcDateString == "2026-01-01")
        #expect(Timestamp(millisecondsSinceEpoch: -1).utcDateString == "1969-12-31")
        // 23:30 at -01:00 is already the next UTC day.
        #expect(Timestamp(rfc3339: "2026-02-28T23:30:00-01:00")?.utcDateString == "2026-03-01")
    }

    @Test func leapSecondIsAcceptedAndHeldAtTheLastSecond() {
        // RFC 3339 allows :60; a millisecond clock cannot represent it, so it reads as :59.
        #expect(ms("2016-12-31T23:59:60Z") == ms("2016-12-31T23:59:59Z"))
        #expect(ms("2016-12-31T23:59:60.5Z") == ms("2016-12-31T23:59:59.5Z"))
    }

    @Test func orderingAndArithmetic() {
        let a = Timestamp(millisecondsSinceEpoch: 5)
        #expect(a < a + 1)
        #expect(!(a < a))
        #expect((a + -10).millisecondsSinceEpoch == -5)
    }

    @Test func instantsOutsideFourDigitYearsAreRefusedWhenParsed() {
        // Year 0000 minus an hour would be year -1, which RFC 3339 cannot write.
        #expect(Timestamp(rfc3339: "0000-01-01T00:30:00+01:00") == nil)
        // 9999-12-31 plus the offset would be year 10000.
        #expect(Timestamp(rfc3339: "9999-12-31T23:30:00-01:00") == nil)
        // The extremes themselves are fine and round-trip.
        let first = Timestamp(rfc3339: "0000-01-01T00:00:00Z")
        let last = Timestamp(rfc3339: "9999-12-31T23:59:59.999Z")
        #expect(first == Timestamp.earliest)
        #expect(last == Timestamp.latest)
        #expect(first?.description == "0000-01-01T00:00:00.000Z")
        #expect(last?.description == "9999-12-31T23:59:59.999Z")
    }

    @Test func formattingNeverTrapsAndStaysWellFormed() {
        // Any Int64 value can be formatted (no arithmetic trap); out-of-range values are clamped
        // to the first / last representable instant so the output is always valid RFC 3339.
        for value in [Int64.min, Int64.min + 1, -62_167_219_200_001, 253_402_300_800_000, Int64.max] {
            let text = Timestamp(millisecondsSinceEpoch: value).description
            #expect(text.utf8.count == 24)
            #expect(Timestamp(rfc3339: text) != nil, "\(value) → \(text)")
        }
        #expect(Timestamp(millisecondsSinceEpoch: Int64.min).description == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: Int64.max).description == "9999-12-31T23:59:59.999Z")
    }
}
