import TokenKit
import Vapor

/// The token a request was authenticated with, as Vapor's `req.auth` holds it.
///
/// ``TokenAuthenticator`` and ``TokenBearerAuthenticator`` log it in when a request's token is
/// valid. Read it in a handler with `req.auth.require(AuthenticatedToken.self)`, or with `get` on a
/// route where authentication is optional:
///
/// ```swift
/// protected.get("whoami") { req in
///     let token = try req.auth.require(AuthenticatedToken.self)
///     return "\(token.owner) (\(token.name))"
/// }
/// ```
///
/// A wrapper rather than a conformance of TokenKit's own ``TokenKit/TokenRecord``, so that neither
/// package conforms a type it does not own to a protocol it does not own.
public struct AuthenticatedToken: Authenticatable, Sendable, Hashable {
    /// The token's stored record: id, owner, name, scopes, allow-list and dates. Never the secret.
    public let record: TokenRecord

    /// Wraps a validated token's record.
    ///
    /// - Parameter record: The record ``TokenKit/TokenManager`` returned for a valid token.
    public init(record: TokenRecord) {
        self.record = record
    }

    /// The user the token belongs to.
    public var owner: String { record.owner }

    /// The token's name.
    public var name: String { record.name }

    /// The token's scopes; empty means full access.
    public var scopes: Set<String> { record.scopes }

    /// Whether the token grants every scope in `required`, with TokenKit's rule that a token
    /// without scopes has full access.
    ///
    /// - Parameter required: The scopes a request needs.
    public func grants(_ required: Set<String>) -> Bool {
        record.grants(required)
    }
}
