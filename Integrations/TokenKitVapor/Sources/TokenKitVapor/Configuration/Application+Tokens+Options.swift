import TokenKit
import TokenKitServerSupport
import Vapor

extension Application.Tokens {
    /// How an application authenticates requests with tokens, beyond the manager's own
    /// configuration. Every property has a default, so set only what you need:
    ///
    /// ```swift
    /// var options = Application.Tokens.Options()
    /// options.trustedProxies = [try IPNetwork(parsing: "10.0.0.0/8")]
    /// options.throttle = .init(maximumFailures: 20, window: .seconds(60))
    /// try app.tokens.use(.file(path: path), options: options)
    /// ```
    public struct Options: Sendable {
        /// The schemes ``TokenAuthenticator`` accepts when it is not given its own. Default:
        /// cPanel's `cpanel` and `whm` (`USER:TOKEN`). ``TokenBearerAuthenticator`` accepts
        /// `Bearer` whatever this says.
        public var schemes: Set<AuthorizationCredentials.Scheme>

        /// The proxies (load balancers, reverse proxies) whose forwarding header is believed when
        /// finding a client's address for IP allow-lists and throttling. Default: none — only the
        /// connection's address counts, since any client can send those headers.
        public var trustedProxies: [IPNetwork]

        /// The header those proxies write: `X-Forwarded-For` (the default) or `Forwarded`. The
        /// other is ignored, so that a client cannot choose its address by sending it.
        public var forwardingHeader: ClientAddressResolver.ForwardingHeader

        /// Failed-authentication throttling per client address (429 with `Retry-After`), or `nil`
        /// for none. Default: `nil`. Turn it on once ``trustedProxies`` is right: behind a proxy
        /// that is not listed, every client shares the proxy's address and one bad client would
        /// block them all.
        public var throttle: FailedAuthenticationThrottle.Configuration?

        /// The swift-metrics counters updated (validations by outcome and reason, creations,
        /// revocations, rotations, deletions, throttled requests), or `nil` for none. Default:
        /// counters made when the options are, from the factory bootstrapped with `MetricsSystem`
        /// (so bootstrap it first).
        public var metrics: TokenMetrics?

        /// Whether audit events are written to `app.logger`, one structured line each, through
        /// TokenKitServerSupport's `TokenAuditLogger`. Default: `true`.
        public var logsAuditEvents: Bool

        /// How many identical failure lines (same reason, client address and claimed owner) the
        /// audit log writes a second before it counts the rest into one summary line. Default: 5.
        public var maximumRepeatedFailureLinesPerSecond: Int

        /// Creates options; every parameter has the default described on its property.
        ///
        /// - Parameters:
        ///   - schemes: The schemes ``TokenAuthenticator`` accepts by default.
        ///   - trustedProxies: The proxies whose forwarding header is believed.
        ///   - forwardingHeader: The header those proxies write.
        ///   - throttle: Failed-authentication throttling, or `nil` for none.
        ///   - metrics: The counters to update, or `nil` for none.
        ///   - logsAuditEvents: Whether audit events go to `app.logger`.
        ///   - maximumRepeatedFailureLinesPerSecond: Identical failure lines written per second.
        public init(
            schemes: Set<AuthorizationCredentials.Scheme> = [.cpanel, .whm],
            trustedProxies: [IPNetwork] = [],
            forwardingHeader: ClientAddressResolver.ForwardingHeader = .xForwardedFor,
            throttle: FailedAuthenticationThrottle.Configuration? = nil,
            metrics: TokenMetrics? = TokenMetrics(),
            logsAuditEvents: Bool = true,
            maximumRepeatedFailureLinesPerSecond: Int = 5
        ) {
            self.schemes = schemes
            self.trustedProxies = trustedProxies
            self.forwardingHeader = forwardingHeader
            self.throttle = throttle
            self.metrics = metrics
            self.logsAuditEvents = logsAuditEvents
            self.maximumRepeatedFailureLinesPerSecond = maximumRepeatedFailureLinesPerSecond
        }
    }
}
