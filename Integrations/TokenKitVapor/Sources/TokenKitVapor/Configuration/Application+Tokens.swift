import TokenKit
import TokenKitServerSupport
import Vapor

extension Application {
    /// TokenKit for this application: where tokens are stored, how requests are authenticated,
    /// and the manager that creates, lists, renames and revokes them.
    ///
    /// ```swift
    /// try app.tokens.use(.file(path: "/var/lib/myapp/tokens.tkstore"))
    /// let issued = try await app.tokens.manager.create(owner: "alice", name: "deploy")
    /// ```
    public var tokens: Tokens {
        Tokens(application: self)
    }

    /// TokenKit's configuration and manager for an ``Vapor/Application``, reached through
    /// ``Vapor/Application/tokens``.
    ///
    /// Call ``use(_:configuration:options:)`` once, before the application boots. It opens the
    /// store, builds the ``TokenKit/TokenManager`` with an audit log on `app.logger` and metrics,
    /// and registers a ``TokenManagerLifecycleHandler`` that runs the manager's background work
    /// (last-used writes, store maintenance) while the application runs and drains it on shutdown.
    public struct Tokens: Sendable {
        /// The application.
        public let application: Application

        /// Makes the handle; ``Vapor/Application/tokens`` is how users reach it.
        init(application: Application) {
            self.application = application
        }

        /// Configures TokenKit for the application.
        ///
        /// ```swift
        /// try app.tokens.use(.memory)                                     // tests, demos
        /// try app.tokens.use(.file(path: "tokens.tkstore"))              // one file, shared with tokenctl
        /// try app.tokens.use(.store(myPostgresStore), options: .init(trustedProxies: [proxies]))
        /// ```
        ///
        /// The manager's audit sink becomes your `configuration.auditSink` (if any), plus
        /// TokenKitServerSupport's `TokenAuditLogger` on `app.logger` and the `TokenMetrics`
        /// counters, as ``Options`` says. Calling it again replaces the configuration; the manager
        /// that runs in the background is the one configured when the application boots.
        ///
        /// - Parameters:
        ///   - provider: Where tokens are stored.
        ///   - configuration: The manager's configuration: token format, hasher, policies, clock.
        ///   - options: How requests are authenticated: schemes, trusted proxies, throttling,
        ///     audit logging and metrics.
        /// - Throws: The store's error when it cannot be opened, such as `storeLocked` or
        ///   `insecurePermissions` for a file.
        public func use(
            _ provider: Provider,
            configuration: TokenManager.Configuration = TokenManager.Configuration(),
            options: Options = Options()
        ) throws(TokenKitError) {
            let store = try provider.makeStore()
            var configuration = configuration
            var sinks: [any TokenAuditSink] = []
            if let sink = configuration.auditSink { sinks.append(sink) }
            let auditLogger =
                options.logsAuditEvents
                ? TokenAuditLogger(
                    logger: application.logger,
                    maximumRepeatedFailuresPerSecond: options.maximumRepeatedFailureLinesPerSecond
                ) : nil
            if let auditLogger { sinks.append(auditLogger) }
            if let metrics = options.metrics { sinks.append(metrics) }
            configuration.auditSink = sinks.count <= 1 ? sinks.first : TokenAuditSinks(sinks)

            let isFirstUse = application.storage[StateKey.self] == nil
            application.storage[StateKey.self] = State(
                manager: TokenManager(store: store, configuration: configuration),
                auditLogger: auditLogger,
                options: options,
                throttle: options.throttle.map { FailedAuthenticationThrottle(configuration: $0) },
                addresses: ClientAddressResolver(
                    trustedProxies: options.trustedProxies,
                    header: options.forwardingHeader
                )
            )
            if isFirstUse {
                application.lifecycle.use(TokenManagerLifecycleHandler())
            }
        }

        /// The manager: create, list, rename, revoke and validate tokens.
        ///
        /// - Precondition: ``use(_:configuration:options:)`` was called.
        public var manager: TokenManager {
            state.manager
        }

        /// The options given to ``use(_:configuration:options:)``.
        ///
        /// - Precondition: ``use(_:configuration:options:)`` was called.
        public var options: Options {
            state.options
        }

        /// The failed-authentication throttle, when ``Options/throttle`` turned it on.
        ///
        /// - Precondition: ``use(_:configuration:options:)`` was called.
        public var throttle: FailedAuthenticationThrottle? {
            state.throttle
        }

        /// Whether ``use(_:configuration:options:)`` was called.
        public var isConfigured: Bool {
            application.storage[StateKey.self] != nil
        }

        /// The shared request flow, for one set of schemes.
        func requestAuthenticator(for schemes: Set<AuthorizationCredentials.Scheme>) -> TokenRequestAuthenticator {
            let state = self.state
            return TokenRequestAuthenticator(
                manager: state.manager,
                schemes: schemes,
                throttle: state.throttle,
                metrics: state.options.metrics,
                addresses: state.addresses
            )
        }

        private var state: State {
            guard let state = application.storage[StateKey.self] else {
                fatalError("TokenKit is not configured: call `try app.tokens.use(…)` before using it.")
            }
            return state
        }

        /// What ``use(_:configuration:options:)`` built, kept in the application's storage.
        /// The audit logger ``use(_:configuration:options:)`` set up, if any; the lifecycle handler
        /// flushes its held-back counts at shutdown.
        var auditLogger: TokenAuditLogger? { state.auditLogger }

        private struct State: Sendable {
            let manager: TokenManager
            let auditLogger: TokenAuditLogger?
            let options: Options
            let throttle: FailedAuthenticationThrottle?
            let addresses: ClientAddressResolver
        }

        private struct StateKey: StorageKey {
            typealias Value = State
        }
    }
}
