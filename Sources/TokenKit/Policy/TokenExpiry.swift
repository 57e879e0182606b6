import Foundation

/// When a new token should expire, as asked by whoever creates it.
public enum TokenExpiry: Hashable, Sendable {
    /// Apply the ``ExpiryPolicy``'s default lifetime (one year unless configured otherwise).
    case policyDefault
    /// Never expire — where the ``ExpiryPolicy`` allows it. cPanel strongly recommends an expiry.
    case never
    /// Expire at this date, which must be in the future.
    case at(Date)
    /// Expire this long after creation; the duration must be positive.
    case after(Duration)
}
