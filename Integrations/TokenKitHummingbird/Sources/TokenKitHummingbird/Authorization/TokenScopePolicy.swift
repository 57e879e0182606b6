import Hummingbird
import HummingbirdAuth
import TokenKit

/// A hummingbird-auth authorization policy that lets a request through when its token grants every
/// one of ``scopes``, with TokenKit's semantics: a token with no scopes has full access.
///
/// ```swift
/// router.group("dns")
///     .add(middleware: TokenAuthenticator(manager: manager))
///     .add(middleware: AuthorizationPolicyMiddleware(TokenScopePolicy("dns:write")))
///     .post("records") { request, context in … }
/// ```
///
/// `AuthorizationPolicyMiddleware` answers 401 when the request has no token and 403 when the
/// token lacks a scope. hummingbird-auth's `PermissionPolicy` cannot stand in for this policy: it
/// would refuse a full-access token, whose scope set is empty. Policies compose with `allOf`,
/// `anyOf` and `Not` like any other.
public struct TokenScopePolicy: AuthorizationPolicy {
    /// The validated token's record, as ``TokenAuthenticator`` sets it.
    public typealias Identity = TokenRecord

    /// The scopes a request's token must grant, all of them.
    public let scopes: Set<String>

    /// Creates a policy requiring every scope in `scopes`.
    ///
    /// - Parameter scopes: The scopes required; none lets every token through.
    public init(_ scopes: Set<String>) {
        self.scopes = scopes
    }

    /// Creates a policy requiring every one of the scopes given.
    ///
    /// - Parameter scopes: The scopes required, such as `"dns:write"`.
    public init(_ scopes: String...) {
        self.init(Set(scopes))
    }

    /// Whether `identity` grants every required scope (``TokenKit/TokenRecord/grants(_:)``).
    public func isAuthorized(identity: TokenRecord, request: Request) async throws -> Bool {
        identity.grants(scopes)
    }
}
