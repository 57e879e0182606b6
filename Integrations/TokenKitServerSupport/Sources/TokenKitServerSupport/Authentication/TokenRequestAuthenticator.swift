import TokenKit

/// The authentication flow every framework adapter runs for a request, written once: refuse a
/// throttled client, find the client's address, validate the `Authorization` header (one parse;
/// the manager audits every refusal), count the outcome, and count a failure against the client.
///
/// ```swift
/// let authenticator = TokenRequestAuthenticator(manager: manager, schemes: [.bearer], throttle: throttle)
/// switch try await authenticator.authenticate(authorization: header, peer: peer) {
/// case .authenticated(let token): …             // serve the request as token.owner
/// case .refused: …                               // 401 (another authenticator may still try)
/// case .throttled(let retryAfter): …             // 429 with Retry-After
/// }
/// ```
public struct TokenRequestAuthenticator: Sendable {
    /// What became of a request's credentials.
    public enum Outcome: Sendable, Equatable {
        /// The token is valid for the request.
        case authenticated(TokenRecord)
        /// The request is refused, for this reason: answer 401 — or 403 for
        /// ``TokenKit/RejectionReason/missingScope`` — and tell the client nothing more.
        case refused(RejectionReason)
        /// The client has failed too often; answer 429 with `Retry-After` (in whole seconds,
        /// rounded up: ``retryAfterSeconds(_:)``).
        case throttled(retryAfter: Duration)
    }

    /// The manager that validates tokens.
    public let manager: TokenManager
    /// The `Authorization` schemes accepted.
    public let schemes: Set<AuthorizationCredentials.Scheme>
    /// The failed-authentication throttle, if any.
    public let throttle: FailedAuthenticationThrottle?
    /// The metrics, if any.
    public let metrics: TokenMetrics?
    /// How the client's address is found.
    public let addresses: ClientAddressResolver

    /// Creates the flow.
    ///
    /// - Parameters:
    ///   - manager: The manager that validates tokens.
    ///   - schemes: The `Authorization` schemes accepted. Default: `Bearer` only.
    ///   - throttle: Throttling of clients that keep failing, or `nil` for none.
    ///   - metrics: Counters to update, or `nil`.
    ///   - addresses: How the client's address is found; by default, the peer's address.
    public init(
        manager: TokenManager,
        schemes: Set<AuthorizationCredentials.Scheme> = [.bearer],
        throttle: FailedAuthenticationThrottle? = nil,
        metrics: TokenMetrics? = nil,
        addresses: ClientAddressResolver = ClientAddressResolver()
    ) {
        self.manager = manager
        self.schemes = schemes
        self.throttle = throttle
        self.metrics = metrics
        self.addresses = addresses
    }

    /// Authenticates a request.
    ///
    /// A request without credentials is refused (``TokenKit/RejectionReason/missingCredentials``)
    /// but not counted against the client: only presented credentials that fail are
    /// (``countsAsFailure(_:)``).
    ///
    /// - Parameters:
    ///   - authorization: The `Authorization` header's value, if the request has one.
    ///   - peer: The connection's remote address, if known.
    ///   - forwarded: Every `Forwarded` header value, in order.
    ///   - xForwardedFor: Every `X-Forwarded-For` header value, in order.
    ///   - scopes: The scopes the request needs.
    /// - Throws: Only when the store cannot be read (a ``TokenKit/TokenKitError`` whose
    ///   `code.suggestedHTTPStatus` is 503).
    public func authenticate(
        authorization: String?,
        peer: IPAddress?,
        forwarded: [String] = [],
        xForwardedFor: [String] = [],
        requiring scopes: Set<String> = []
    ) async throws -> Outcome {
        let client = addresses.clientAddress(peer: peer, forwarded: forwarded, xForwardedFor: xForwardedFor)
        if let throttled = throttled(client) { return throttled }
        let result = try await manager.validate(
            authorization: authorization,
            accepting: schemes,
            requiring: scopes,
            from: client
        )
        return outcome(of: result, from: client)
    }

    /// Authenticates a request as
    /// ``authenticate(authorization:peer:forwarded:xForwardedFor:requiring:)`` does, when that
    /// needs no waiting (``TokenKit/TokenManager/validateImmediately(authorization:accepting:requiring:from:)``);
    /// otherwise returns `nil`, having counted nothing, and the caller awaits `authenticate`.
    ///
    /// For frameworks whose handlers run on event loops, such as Vapor's `Middleware`:
    ///
    /// ```swift
    /// do {
    ///     if let outcome = try authenticator.authenticateImmediately(authorization: header, peer: peer) {
    ///         return request.eventLoop.makeSucceededFuture(outcome)
    ///     }
    /// } catch {
    ///     return request.eventLoop.makeFailedFuture(error)
    /// }
    /// return request.eventLoop.makeFutureWithTask {
    ///     try await authenticator.authenticate(authorization: header, peer: peer)
    /// }
    /// ```
    ///
    /// - Throws: Only when the store cannot be read.
    public func authenticateImmediately(
        authorization: String?,
        peer: IPAddress?,
        forwarded: [String] = [],
        xForwardedFor: [String] = [],
        requiring scopes: Set<String> = []
    ) throws -> Outcome? {
        let client = addresses.clientAddress(peer: peer, forwarded: forwarded, xForwardedFor: xForwardedFor)
        if let throttled = throttled(client) { return throttled }
        let result = try manager.validateImmediately(
            authorization: authorization,
            accepting: schemes,
            requiring: scopes,
            from: client
        )
        return result.map { outcome(of: $0, from: client) }
    }

    /// ``Outcome/throttled(retryAfter:)``, counted, when the client must wait.
    private func throttled(_ client: IPAddress?) -> Outcome? {
        guard let retryAfter = throttle?.retryAfter(for: client) else { return nil }
        metrics?.recordThrottled()
        return .throttled(retryAfter: retryAfter)
    }

    /// What a validation comes to, counted, and a failure counted against the client.
    private func outcome(of result: ValidationResult, from client: IPAddress?) -> Outcome {
        metrics?.recordValidation(result)
        switch result {
        case .valid(let record):
            return .authenticated(record)
        case .rejected(let reason):
            if Self.countsAsFailure(reason) { throttle?.recordFailure(from: client) }
            return .refused(reason)
        }
    }

    /// The client's address for a request, as ``authenticate(authorization:peer:forwarded:xForwardedFor:requiring:)``
    /// finds it.
    public func clientAddress(peer: IPAddress?, forwarded: [String], xForwardedFor: [String]) -> IPAddress? {
        addresses.clientAddress(peer: peer, forwarded: forwarded, xForwardedFor: xForwardedFor)
    }

    /// Whether a refusal counts against the client for throttling: presented credentials that
    /// failed. No credentials, a scheme another authenticator may take, and a valid token that
    /// lacks a scope do not.
    public static func countsAsFailure(_ reason: RejectionReason) -> Bool {
        reason != .missingCredentials && reason != .schemeNotAccepted && reason != .missingScope
    }

    /// A `Retry-After` value: whole seconds, rounded up, at least 1.
    public static func retryAfterSeconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }
}
