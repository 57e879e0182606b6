import ArgumentParser
import Foundation
import Logging
import TokenKit
import TokenKitPostgres
import TokenKitServerSupport

/// The command line both example servers take: `--store` or `--postgres` (with
/// `--max-staleness`), `--host`, `--port`, `--trusted-proxy` and `--failure-limit`.
public struct ServerOptions: ParsableArguments {
    /// The token store file.
    @Option(help: "The token store file (default: $TOKENKIT_STORE).")
    public var store: String?

    /// The PostgreSQL database, in place of a store file.
    @Option(
        help: .init(
            "A PostgreSQL database instead of a store file, shared by every instance: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (default: $TOKENKIT_POSTGRES_URL).",
            valueName: "url"
        )
    )
    public var postgres: String?

    /// How long a change made through another instance may go unnoticed (PostgreSQL only).
    @Option(
        help: .init(
            "With --postgres: how long a change made through another instance may go unnoticed here, such as 2s or 500ms; past it, validations ask the database.",
            valueName: "duration"
        )
    )
    public var maxStaleness = "1s"

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

    /// Failed authentications a minute from one client (an IPv4 address or an IPv6 /64) before it
    /// gets 429; 0 turns throttling off.
    @Option(help: "Failed authentications a minute from one client (IPv4 address, IPv6 /64) before 429 (0: never).")
    public var failureLimit = 20

    /// Creates the options with their defaults.
    public init() {}

    /// Checks the options.
    public func validate() throws {
        _ = try storeLocation()
        _ = try staleness()
        _ = try trustedProxies()
        guard failureLimit >= 0 else { throw ValidationError("--failure-limit must be 0 or more.") }
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1 to 65535.") }
    }

    /// The store: `--store` (or `TOKENKIT_STORE`) or `--postgres` (or `TOKENKIT_POSTGRES_URL`),
    /// exactly one of them.
    public func storeLocation() throws -> TokenStoreLocation {
        do throws(TokenKitError) {
            return try TokenStoreLocation(store: store, postgres: postgres)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// The parsed `--max-staleness`: a whole number followed by `ms`, `s` or `m`.
    public func staleness() throws -> Duration {
        let units: [(suffix: String, duration: Duration)] = [
            ("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)),
        ]
        for unit in units where maxStaleness.hasSuffix(unit.suffix) {
            if let count = Int(maxStaleness.dropLast(unit.suffix.count)), (0...3_600_000).contains(count) {
                let duration = unit.duration * count
                guard duration >= .milliseconds(10), duration <= .seconds(3600) else { break }
                return duration
            }
        }
        throw ValidationError("--max-staleness \(maxStaleness): give 10ms to 60m, such as 2s or 500ms.")
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

    /// Runs `body` with the store. For PostgreSQL, TokenKit's tables are created or upgraded
    /// first, and the connection pool and the store's change feed run until `body` returns.
    public func withStore<Result: Sendable>(
        logger: Logger,
        _ body: (any TokenStore) async throws -> Result
    ) async throws -> Result {
        switch try storeLocation() {
        case .file(let path):
            return try await body(try FileTokenStore(path: path))
        case .postgres(let url):
            let staleness = try staleness()
            logger.info("Tokens in PostgreSQL", metadata: ["database": "\(url)", "max_staleness": "\(staleness)"])
            return try await PostgresTokenStore.withStore(
                url: url,
                configuration: .init(maximumStaleness: staleness),
                logger: logger
            ) { store in
                try await body(store)
            }
        }
    }

    /// Runs `body` with a manager over the store (``withStore(logger:_:)``), auditing to
    /// `auditLogger` and to `metrics`.
    public func withManager<Result: Sendable>(
        auditLogger: TokenAuditLogger,
        metrics: TokenMetrics,
        logger: Logger,
        _ body: (TokenManager) async throws -> Result
    ) async throws -> Result {
        try await withStore(logger: logger) { store in
            try await body(
                TokenManager(store: store, configuration: .init(auditSink: TokenAuditSinks([auditLogger, metrics])))
            )
        }
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
