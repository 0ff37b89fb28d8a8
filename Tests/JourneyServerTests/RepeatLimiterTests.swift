import Testing

@testable import JourneyServer

/// One line per kind per interval; the next line written says how many were held back.
@Suite struct RepeatLimiterTests {
    @Test func floodsCostOneLinePerIntervalAndReportWhatWasSuppressed() {
        let limiter = RepeatLimiter(interval: .seconds(10))
        let start = ContinuousClock.now
        #expect(limiter.admit("handshake failed", now: start) == 0)
        for offset in 1...50 {
            #expect(limiter.admit("handshake failed", now: start + .milliseconds(offset * 100)) == nil)
        }
        #expect(limiter.admit("request refused", now: start + .seconds(1)) == 0, "kinds are counted apart")
        #expect(limiter.admit("handshake failed", now: start + .seconds(10)) == 50)
        #expect(limiter.admit("handshake failed", now: start + .seconds(25)) == 0)
    }
}
