import Synchronization
import Testing
import TokenKit
import TokenKitServerSupport

/// A clock the test moves by hand.
final class TestInstant: Sendable {
    private let value = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { value.withLock { $0 } }
    func advance(_ duration: Duration) { value.withLock { $0 += duration } }
}

struct ThrottleTests {
    let address = IPAddress("192.0.2.1")

    @Test func blocksAfterTheLimitUntilTheBlockEnds() {
        let clock = TestInstant()
        let throttle = FailedAuthenticationThrottle(
            configuration: .init(maximumFailures: 3, window: .seconds(60), blockDuration: .seconds(30)),
            now: { clock.now }
        )
        #expect(!throttle.recordFailure(from: address))
        #expect(!throttle.recordFailure(from: address))
        #expect(throttle.retryAfter(for: address) == nil)
        #expect(throttle.recordFailure(from: address))
        #expect(throttle.retryAfter(for: address) == .seconds(30))
        #expect(throttle.retryAfter(for: IPAddress("192.0.2.2")) == nil)
        clock.advance(.seconds(29))
        #expect(throttle.retryAfter(for: address) == .seconds(1))
        clock.advance(.seconds(1))
        #expect(throttle.retryAfter(for: address) == nil)
    }

    /// One client holds a whole IPv6 /64: a fresh address in it for every attempt is still one
    /// client, while another /64 is not held back, and IPv4 addresses stay apart.
    @Test func countsAnIPv6NetworkAsOneClient() {
        let throttle = FailedAuthenticationThrottle(configuration: .init(maximumFailures: 3))
        #expect(!throttle.recordFailure(from: IPAddress("2001:db8:1:2::1")))
        #expect(!throttle.recordFailure(from: IPAddress("2001:db8:1:2:ffff::9")))
        #expect(throttle.recordFailure(from: IPAddress("2001:db8:1:2:abcd:1234:5678:9abc")))
        #expect(throttle.retryAfter(for: IPAddress("2001:db8:1:2::77")) != nil)
        #expect(throttle.retryAfter(for: IPAddress("2001:db8:1:3::1")) == nil)
        #expect(throttle.trackedAddresses == 1)

        for last in 1...3 { throttle.recordFailure(from: IPAddress("192.0.2.\(last)")) }
        #expect(throttle.retryAfter(for: IPAddress("192.0.2.1")) == nil)

        let perAddress = FailedAuthenticationThrottle(configuration: .init(maximumFailures: 2, ipv6PrefixLength: 128))
        perAddress.recordFailure(from: IPAddress("2001:db8::1"))
        perAddress.recordFailure(from: IPAddress("2001:db8::2"))
        #expect(perAddress.retryAfter(for: IPAddress("2001:db8::1")) == nil)

        // A length set out of range later is taken as the nearest, never as "do not count".
        var configuration = FailedAuthenticationThrottle.Configuration(maximumFailures: 2)
        configuration.ipv6PrefixLength = 500
        let outOfRange = FailedAuthenticationThrottle(configuration: configuration)
        outOfRange.recordFailure(from: IPAddress("2001:db8::1"))
        #expect(outOfRange.recordFailure(from: IPAddress("2001:db8::1")))
    }

    @Test func failuresOutsideTheWindowDoNotAddUp() {
        let clock = TestInstant()
        let throttle = FailedAuthenticationThrottle(
            configuration: .init(maximumFailures: 3, window: .seconds(60)),
            now: { clock.now }
        )
        for _ in 0..<10 {
            throttle.recordFailure(from: address)
            throttle.recordFailure(from: address)
            clock.advance(.seconds(61))
        }
        #expect(throttle.retryAfter(for: address) == nil)
    }

    @Test func unknownAddressesAreNeverThrottledAndMemoryIsBounded() {
        let throttle = FailedAuthenticationThrottle(
            configuration: .init(maximumFailures: 1, maximumTrackedAddresses: 100)
        )
        #expect(!throttle.recordFailure(from: nil))
        #expect(throttle.retryAfter(for: nil) == nil)
        for index in 0..<1_000 {
            throttle.recordFailure(from: IPAddress("10.0.\(index / 256).\(index % 256)"))
        }
        #expect(throttle.trackedAddresses <= 100)
    }
}
