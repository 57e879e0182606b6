import Foundation

/// Which expiry dates new tokens may have.
///
/// The ``default`` policy follows cPanel: a token without an explicit expiry lives one year, a
/// token may be created to never expire if asked for explicitly, and there is no maximum lifetime.
/// A stricter policy:
///
/// ```swift
/// let policy = try ExpiryPolicy(
///     allowsNeverExpiring: false,
///     defaultLifetime: .seconds(90 * 86_400),
///     maximumLifetime: .seconds(365 * 86_400)
/// )
/// ```
public struct ExpiryPolicy: Hashable, Sendable {
    /// One year, cPanel's default.
    public static let oneYear = Duration.seconds(365 * 86_400)

    /// cPanel's behaviour: one-year default, "never" allowed on request, no maximum.
    public static let `default` = ExpiryPolicy(checked: true, defaultLifetime: oneYear, maximumLifetime: nil)

    /// Whether a token may be created with ``TokenExpiry/never``.
    public let allowsNeverExpiring: Bool
    /// The lifetime of a token created with ``TokenExpiry/policyDefault``; `nil` means such tokens
    /// never expire (which requires ``allowsNeverExpiring``).
    public let defaultLifetime: Duration?
    /// The longest lifetime a token may be given, or `nil` for no limit.
    public let maximumLifetime: Duration?

    /// Creates a policy.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidConfiguration`` when a
    ///   lifetime is not positive, the default exceeds the maximum, a maximum is combined with
    ///   never-expiring tokens, or the default is "never" while never-expiring tokens are refused.
    public init(
        allowsNeverExpiring: Bool = true,
        defaultLifetime: Duration? = ExpiryPolicy.oneYear,
        maximumLifetime: Duration? = nil
    ) throws(TokenKitError) {
        if let defaultLifetime, defaultLifetime <= .zero {
            throw TokenKitError(.invalidConfiguration, "An expiry policy's default lifetime must be positive.")
        }
        if let maximumLifetime {
            guard maximumLifetime > .zero else {
                throw TokenKitError(.invalidConfiguration, "An expiry policy's maximum lifetime must be positive.")
            }
            guard !allowsNeverExpiring else {
                throw TokenKitError(
                    .invalidConfiguration,
                    "An expiry policy with a maximum lifetime cannot allow never-expiring tokens; pass allowsNeverExpiring: false."
                )
            }
            guard let defaultLifetime, defaultLifetime <= maximumLifetime else {
                throw TokenKitError(
                    .invalidConfiguration,
                    "An expiry policy's default lifetime must be set and no longer than its maximum lifetime."
                )
            }
        }
        if defaultLifetime == nil && !allowsNeverExpiring {
            throw TokenKitError(
                .invalidConfiguration,
                "An expiry policy that refuses never-expiring tokens needs a default lifetime."
            )
        }
        self.init(checked: allowsNeverExpiring, defaultLifetime: defaultLifetime, maximumLifetime: maximumLifetime)
    }

    private init(checked allowsNeverExpiring: Bool, defaultLifetime: Duration?, maximumLifetime: Duration?) {
        self.allowsNeverExpiring = allowsNeverExpiring
        self.defaultLifetime = defaultLifetime
        self.maximumLifetime = maximumLifetime
    }

    /// Turns a requested expiry into the expiry date to store, or `nil` for never. The date is
    /// rounded to the microsecond, as stores keep it (``TokenStoreRules/normalized(_:)``).
    ///
    /// - Parameters:
    ///   - expiry: What the creator asked for.
    ///   - now: The creation time.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/expiryInPast``,
    ///   ``TokenKitError/Code/neverExpiringRefused``, ``TokenKitError/Code/lifetimeTooLong``, or
    ///   ``TokenKitError/Code/invalidDate`` for a date that is not finite or lies after
    ///   9999-12-31 (``TokenStoreRules/dateRange``).
    public func expiryDate(for expiry: TokenExpiry, now: Date) throws(TokenKitError) -> Date? {
        let date: Date
        switch expiry {
        case .policyDefault:
            guard let defaultLifetime else { return nil }
            date = now + defaultLifetime.timeInterval
        case .never:
            guard allowsNeverExpiring else {
                throw TokenKitError(
                    .neverExpiringRefused,
                    "This server does not allow API tokens that never expire; give an expiration date."
                )
            }
            return nil
        case .at(let requested):
            date = requested
        case .after(let lifetime):
            date = now + lifetime.timeInterval
        }
        guard date.timeIntervalSinceReferenceDate.isFinite, date <= TokenStoreRules.dateRange.upperBound else {
            throw TokenKitError(
                .invalidDate,
                "The API token's expiration date is too far away: the latest allowed is 9999-12-31 (UTC)."
            )
        }
        // Rounded as stores keep it, then compared: a lifetime under a microsecond must not turn
        // into a token that is expired when created.
        let expiresAt = date > now ? try TokenStoreRules.normalized(date) : date
        guard expiresAt > now else {
            throw TokenKitError(.expiryInPast, "The API token's expiration date must be a future date.")
        }
        if let maximumLifetime, expiresAt > now + maximumLifetime.timeInterval {
            let days = Int(maximumLifetime.timeInterval / 86_400)
            throw TokenKitError(
                .lifetimeTooLong,
                "The API token's expiration date is too far away: this server allows at most \(days) days; choose an earlier date."
            )
        }
        return expiresAt
    }
}

extension Duration {
    /// The duration in seconds.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
