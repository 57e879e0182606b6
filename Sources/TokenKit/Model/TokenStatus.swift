import Foundation

/// Where a token stands at a moment: active, disabled, expired or revoked.
///
/// A status is a struct rather than an enum so that later releases can add statuses without
/// breaking your `switch` statements; keep a `default` case.
public struct TokenStatus: Hashable, Sendable, CustomStringConvertible {
    /// The status's stable name: `active`, `disabled`, `expired` or `revoked`.
    public let rawValue: String

    private init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// The token validates (subject to its scopes and allowed networks).
    public static let active = TokenStatus("active")
    /// The token's expiry date has passed. It is still listed until it is deleted or purged.
    public static let expired = TokenStatus("expired")
    /// The token was revoked and never validates again.
    public static let revoked = TokenStatus("revoked")
    /// The token was disabled; it can be enabled again.
    public static let disabled = TokenStatus("disabled")

    /// The stable name.
    public var description: String { rawValue }
}

extension TokenStatus {
    /// Every status, for ``TokenManager/list(owner:including:)``.
    public static let all: Set<TokenStatus> = [.active, .disabled, .expired, .revoked]

    /// The statuses ``TokenManager/list(owner:including:)`` shows by default: the tokens the owner
    /// still holds and can use or enable again.
    public static let current: Set<TokenStatus> = [.active, .disabled]
}
