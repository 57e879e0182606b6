/// Why a presented token was rejected.
///
/// Use the reason for logs and metrics only. Tell the client nothing more than that
/// authentication failed — ``ValidationResult/authenticated()`` does exactly that — so that an
/// attacker cannot learn whether a token exists, has expired or was revoked.
///
/// A reason is a struct rather than an enum so later releases can add reasons without breaking
/// your `switch` statements; keep a `default` case.
public struct RejectionReason: Hashable, Sendable, CustomStringConvertible {
    private enum Base: String, Hashable, Sendable {
        case malformed
        case unknown
        case expired
        case revoked
        case addressNotAllowed = "address_not_allowed"
        case missingScope = "missing_scope"
        case wrongOwner = "wrong_owner"
        case disabled
        case idle
        case missingCredentials = "missing_credentials"
        case schemeNotAccepted = "scheme_not_accepted"
    }

    private let base: Base

    /// The text is not a well-formed token, or the `Authorization` header could not be parsed.
    public static let malformed = RejectionReason(base: .malformed)
    /// No stored token has this secret.
    public static let unknown = RejectionReason(base: .unknown)
    /// The token's expiry date has passed.
    public static let expired = RejectionReason(base: .expired)
    /// The token was revoked.
    public static let revoked = RejectionReason(base: .revoked)
    /// The token has an allow-list and the client's address is not on it (or is unknown).
    public static let addressNotAllowed = RejectionReason(base: .addressNotAllowed)
    /// The token lacks a scope the request requires.
    public static let missingScope = RejectionReason(base: .missingScope)
    /// The `Authorization` header names a user who does not own the token.
    public static let wrongOwner = RejectionReason(base: .wrongOwner)
    /// The token is disabled; it can be enabled again.
    public static let disabled = RejectionReason(base: .disabled)
    /// The token has not been used for longer than the configured idle limit
    /// (``TokenManager/Configuration/maximumIdleTime``).
    public static let idle = RejectionReason(base: .idle)

    /// The request carried no credentials: no `Authorization` header, or an empty one.
    public static let missingCredentials = RejectionReason(base: .missingCredentials)

    /// The `Authorization` header uses a scheme this route does not accept — `Basic`, say, or
    /// `cpanel` where only `Bearer` is taken. Another authenticator may accept it, so adapters
    /// neither count it against the client nor answer for it alone.
    public static let schemeNotAccepted = RejectionReason(base: .schemeNotAccepted)

    /// A stable, machine-readable name, such as `"address_not_allowed"`.
    public var code: String { base.rawValue }

    /// The reason's stable code.
    public var description: String { code }
}
