import ArgumentParser
import Foundation
import Logging
import TokenKit
import TokenKitServerSupport

/// The command line both example servers take: `--store`, `--host`, `--port`, `--trusted-proxy`
/// and `--failure-limit`.
public struct ServerOptions: ParsableArguments {
    /// The token store file.
    @Option(help: "The token store file (default: $TOKENKIT_STORE).")
    public var store: String?

    /// The address to listen on.
    @Option(help: "The address to listen on.")
    public var host = "127.0.0.1"

    /// The port to listen on.
    @Option(help: "The port to listen on (cPanel's is 2083; this server speaks plain HTTP).")
    public var port = 2083

    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers are believed.
    @Option(
        name: .customLong("trusted-proxy"),
        help: .init("A proxy whose Forwarded / X-Forwarded-For headers are believed (repeatable).", valueName: "cidr")
    )
    public var trustedProxyTexts: [String] = []

    /// Failed authentications a minute from one address before it gets 429; 0 turns throttling off.
    @Option(help: "Failed authentications a minute from one address before it is refused with 429 (0: never).")
    public var failureLimit = 20

    /// Creates the options with their defaults.
    public init() {}

    /// Checks the options.
    public func validate() throws {
        _ = try storePath()
        _ = try trustedProxies()
        guard failureLimit >= 0 else { throw ValidationError("--failure-limit must be 0 or more.") }
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1 to 65535.") }
    }

    /// The store file, from `--store` or `TOKENKIT_STORE`.
    public func storePath() throws -> String {
        guard let path = store ?? ProcessInfo.processInfo.environment["TOKENKIT_STORE"], !path.isEmpty else {
            throw ValidationError("Give --store PATH or set TOKENKIT_STORE.")
        }
        return path
    }

    /// The parsed `--trusted-proxy` networks.
    public func trustedProxies() throws -> [IPNetwork] {
        try trustedProxyTexts.map { text in
            do throws(TokenKitError) {
                return try IPNetwork(parsing: text)
            } catch {
                throw ValidationError("--trusted-proxy \(text): \(error.message)")
            }
        }
    }

    /// The failed-authentication throttle, or `nil` with `--failure-limit 0`.
    public func throttle() -> FailedAuthenticationThrottle? {
        failureLimit == 0 ? nil : FailedAuthenticationThrottle(configuration: .init(maximumFailures: failureLimit))
    }

    /// A manager over the store file, auditing to `auditLogger` and to `metrics`.
    public func makeManager(auditLogger: TokenAuditLogger, metrics: TokenMetrics) throws -> TokenManager {
        TokenManager(
            store: try FileTokenStore(path: try storePath()),
            configuration: .init(auditSink: TokenAuditSinks([auditLogger, metrics]))
        )
    }

    /// The request authenticator for `schemes`, with these options' throttle and proxies. Share
    /// one throttle between a server's authenticators so that failures on every route add up.
    public func makeAuthenticator(
        manager: TokenManager,
        schemes: Set<AuthorizationCredentials.Scheme>,
        throttle: FailedAuthenticationThrottle?,
        metrics: TokenMetrics
    ) throws -> TokenRequestAuthenticator {
        TokenRequestAuthenticator(
            manager: manager,
            schemes: schemes,
            throttle: throttle,
            metrics: metrics,
            addresses: ClientAddressResolver(trustedProxies: try trustedProxies())
        )
    }
}
