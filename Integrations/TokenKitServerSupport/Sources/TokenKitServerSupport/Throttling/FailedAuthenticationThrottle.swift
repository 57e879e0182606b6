import Synchronization
import TokenKit

/// Slows down a client that keeps failing to authenticate, as cPanel's cPHulk does: after
/// ``Configuration/maximumFailures`` failures from one client within
/// ``Configuration/window``, that client is refused — HTTP 429 with `Retry-After` — for
/// ``Configuration/blockDuration``, without its tokens even being checked.
///
/// Failures are counted in fixed windows per IPv4 address, and per IPv6 network of
/// ``Configuration/ipv6PrefixLength`` bits (a /64 by default): a host is usually given a whole /64,
/// so counting each IPv6 address apart would let one client pick a fresh address for every
/// attempt. Requests whose address is unknown are never throttled (they would all share one
/// counter). Memory is bounded: past ``Configuration/maximumTrackedAddresses`` addresses (or IPv6
/// networks), the entries idle longest are forgotten.
public final class FailedAuthenticationThrottle: Sendable {
    /// When to throttle.
    public struct Configuration: Sendable {
        /// Failures from one client within ``window`` that trigger a block. Default: 20.
        public var maximumFailures: Int
        /// The window failures are counted in. Default: one minute.
        public var window: Duration
        /// How long a blocked address is refused. Default: one minute.
        public var blockDuration: Duration
        /// The most addresses remembered at once. Default: 100,000.
        public var maximumTrackedAddresses: Int
        /// The leading bits of an IPv6 address that name one client, 1 to 128 (others are taken
        /// as the nearest). Default: 64, the network one host is usually given; 128 counts each
        /// IPv6 address apart. Behind NAT64 (`64:ff9b::/96`) every IPv4 client shares one /64:
        /// use 128 there.
        public var ipv6PrefixLength: Int

        /// Creates a configuration; every parameter has the default described on its property.
        public init(
            maximumFailures: Int = 20,
            window: Duration = .seconds(60),
            blockDuration: Duration = .seconds(60),
            maximumTrackedAddresses: Int = 100_000,
            ipv6PrefixLength: Int = 64
        ) {
            self.maximumFailures = max(1, maximumFailures)
            self.window = window
            self.blockDuration = blockDuration
            self.maximumTrackedAddresses = max(1, maximumTrackedAddresses)
            self.ipv6PrefixLength = ipv6PrefixLength
        }
    }

    private struct Entry {
        var windowStart: ContinuousClock.Instant
        var failures: Int
        var blockedUntil: ContinuousClock.Instant?
        var lastSeen: ContinuousClock.Instant
    }

    /// The settings in use.
    public let configuration: Configuration
    private let entries = Mutex<[IPNetwork: Entry]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    /// Creates a throttle.
    ///
    /// - Parameters:
    ///   - configuration: When to throttle.
    ///   - now: The clock; tests pass their own.
    public init(
        configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.configuration = configuration
        self.now = now
    }

    /// How long `address` must still wait, or `nil` when it may try.
    public func retryAfter(for address: IPAddress?) -> Duration? {
        guard let client = client(address) else { return nil }
        let now = now()
        return entries.withLock { entries in
            guard let blockedUntil = entries[client]?.blockedUntil, blockedUntil > now else { return nil }
            return now.duration(to: blockedUntil)
        }
    }

    /// Counts a failed authentication from `address`.
    ///
    /// - Returns: Whether this failure started a block.
    @discardableResult
    public func recordFailure(from address: IPAddress?) -> Bool {
        guard let client = client(address) else { return false }
        let now = now()
        return entries.withLock { entries in
            var entry = entries[client] ?? Entry(windowStart: now, failures: 0, blockedUntil: nil, lastSeen: now)
            if now - entry.windowStart >= configuration.window {
                entry.windowStart = now
                entry.failures = 0
            }
            entry.failures += 1
            entry.lastSeen = now
            var started = false
            if entry.failures >= configuration.maximumFailures, entry.blockedUntil.map({ $0 <= now }) ?? true {
                entry.blockedUntil = now + configuration.blockDuration
                entry.windowStart = now
                entry.failures = 0
                started = true
            }
            entries[client] = entry
            if entries.count > configuration.maximumTrackedAddresses {
                Self.forgetIdlest(&entries, keeping: configuration.maximumTrackedAddresses * 3 / 4, now: now)
            }
            return started
        }
    }

    /// The number of addresses (and IPv6 networks) remembered.
    public var trackedAddresses: Int { entries.withLock { $0.count } }

    /// The client `address` counts as: the address itself for IPv4, its network of
    /// ``Configuration/ipv6PrefixLength`` bits for IPv6.
    private func client(_ address: IPAddress?) -> IPNetwork? {
        guard let address else { return nil }
        let prefixLength = address.family == .ipv6 ? min(128, max(1, configuration.ipv6PrefixLength)) : 32
        // Cannot fail: the prefix length was just brought within the family's range.
        return try? IPNetwork(containing: address, prefixLength: prefixLength)
    }

    /// Drops the entries idle longest (blocked ones last), down to `count`.
    private static func forgetIdlest(
        _ entries: inout [IPNetwork: Entry],
        keeping count: Int,
        now: ContinuousClock.Instant
    ) {
        let ranked = entries.sorted { lhs, rhs in
            let lhsBlocked = (lhs.value.blockedUntil ?? now) > now
            let rhsBlocked = (rhs.value.blockedUntil ?? now) > now
            if lhsBlocked != rhsBlocked { return rhsBlocked }
            return lhs.value.lastSeen < rhs.value.lastSeen
        }
        for (address, _) in ranked.prefix(max(0, entries.count - count)) {
            entries[address] = nil
        }
    }
}
