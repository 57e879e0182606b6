import Foundation
import Synchronization
import TokenKit

/// A clock that only moves when a test moves it.
///
/// ```swift
/// let clock = ManualClock()
/// let manager = TokenManager(store: InMemoryTokenStore(), configuration: .init(clock: clock))
/// let issued = try await manager.create(owner: "alice", name: "ci", expiry: .after(.seconds(3600)))
/// clock.advance(by: .seconds(3601))
/// // the token is now expired
/// ```
public final class ManualClock: TokenClock {
    private let current: Mutex<Date>

    /// Creates a clock that reads `start` until moved. The default is a fixed, whole-second date so
    /// that tests do not depend on when they run.
    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    /// The date the clock was last set or advanced to.
    public func now() -> Date {
        current.withLock { $0 }
    }

    /// Moves the clock forward (or back, with a negative duration).
    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let interval = TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
        current.withLock { $0 += interval }
    }

    /// Sets the clock to `date`.
    public func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}
