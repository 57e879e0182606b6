/// The credentials in an HTTP `Authorization` header: `Bearer TOKEN`, `cpanel USER:TOKEN` or
/// `whm USER:TOKEN`.
///
/// The scheme is matched without regard to case and white space around the value is ignored. When
/// the header names a user, ``TokenManager/validate(authorization:requiring:from:)`` also checks
/// that the token belongs to that user. The token is redacted from ``description``.
public struct AuthorizationCredentials: Hashable, Sendable, CustomStringConvertible {
    /// How the credentials were presented.
    public enum Scheme: String, Hashable, Sendable, CaseIterable {
        /// `Authorization: Bearer TOKEN` (RFC 6750).
        case bearer
        /// `Authorization: cpanel USER:TOKEN`, cPanel's scheme (port 2083).
        case cpanel
        /// `Authorization: whm USER:TOKEN`, WHM's scheme (port 2087).
        case whm

        /// Every scheme: what a route accepts by default.
        @usableFromInline static let every = Set(allCases)
    }

    /// The longest header value accepted, in bytes. A longer one is refused as malformed, unless
    /// it is nothing but spaces and tabs: that is empty, at any length.
    public static let maximumLength = 8192

    /// The scheme.
    public let scheme: Scheme
    /// The user named by a `cpanel` or `whm` header; `nil` for `Bearer`.
    public let user: String?
    /// The token text, exactly as presented.
    public let token: String

    /// Parses the value of an `Authorization` header.
    ///
    /// - Throws: ``AuthorizationHeaderError`` with the reason the value is not accepted.
    public init(parsing header: String) throws(AuthorizationHeaderError) {
        var header = header
        let parsed = header.withUTF8 { bytes in
            Result { () throws(AuthorizationHeaderError) in
                let parts = try AuthorizationHeaderParts(parsing: bytes)
                return (
                    parts.scheme,
                    parts.user.map { String(decoding: bytes[$0], as: UTF8.self) },
                    String(decoding: bytes[parts.token], as: UTF8.self)
                )
            }
        }
        (scheme, user, token) = try parsed.get()
    }

    /// The scheme and user, with the token redacted.
    public var description: String {
        "AuthorizationCredentials(scheme: \(scheme.rawValue), user: \(user ?? "nil"), token: <redacted>)"
    }
}
