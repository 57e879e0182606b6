import Foundation

/// What ``TokenManager/rotate(owner:name:grace:expiry:)`` did: the new token, with its secret, and
/// the token it replaced, which keeps working until ``previousSecretValidUntil``.
public struct Rotation: Sendable, CustomStringConvertible {
    /// The new token and its secret — the only time the secret is available.
    public let issued: IssuedToken
    /// The replaced token as written: no longer holding its name, revoked as of the grace period's
    /// end.
    public let previous: TokenRecord

    /// When the previous secret stops working: the end of the grace period, or the previous
    /// token's expiry if that comes first. Revoking, disabling or deleting the token by name before
    /// then stops it too.
    public var previousSecretValidUntil: Date {
        let revokedAt = previous.revokedAt ?? .distantFuture
        return min(revokedAt, previous.expiresAt ?? revokedAt)
    }

    init(issued: IssuedToken, previous: TokenRecord) {
        self.issued = issued
        self.previous = previous
    }

    /// The new token (its secret redacted) and when the previous secret stops working.
    public var description: String {
        "Rotation(\(issued), previous: \(previous.id), previous secret valid until: \(previousSecretValidUntil))"
    }
}
