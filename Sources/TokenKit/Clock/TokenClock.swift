import Foundation

/// The source of "now" for expiry, revocation and last-used times.
///
/// Token times are wall-clock dates because they are stored and compared across restarts and
/// processes. Servers use ``SystemClock``; tests use `ManualClock` from `TokenKitTesting` to move
/// time by hand.
public protocol TokenClock: Sendable {
    /// The current date.
    func now() -> Date
}

/// The system's wall clock.
public struct SystemClock: TokenClock {
    /// Creates the clock.
    public init() {}

    /// The current system date.
    public func now() -> Date { Date() }
}
