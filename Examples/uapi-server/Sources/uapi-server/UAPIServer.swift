import ArgumentParser
import Hummingbird
import Logging
import ServiceLifecycle
import TokenKit
import TokenKitHummingbird
import TokenKitServerSupport
import UAPISupport
import UnixSignals

/// A Swift server that speaks cPanel's UAPI Tokens API, backed by a TokenKit file store or a
/// PostgreSQL database shared with other instances.
@main
struct UAPIServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uapi-server",
        abstract: "Serve cPanel's UAPI Tokens functions and /api/whoami over a TokenKit file store or PostgreSQL."
    )

    @OptionGroup var options: ServerOptions

    /// GitHub's secret-scanning public-keys document; enables `POST /secret-scanning/github`.
    @Option(
        help: .init(
            "GitHub's secret-scanning public-keys document (https://api.github.com/meta/public_keys/secret_scanning): enables POST /secret-scanning/github; SIGHUP reloads it.",
            valueName: "file"
        )
    )
    var secretScanningKeys: String?

    func run() async throws {
        var logger = Logger(label: "uapi-server")
        logger.logLevel = .info
        // The keys are read before anything starts: a file that does not read is a startup error.
        let keys = try secretScanningKeys.map { path throws(TokenKitError) in try SecretScanningKeys(path: path) }
        let metrics = TokenMetrics()
        let auditLogger = TokenAuditLogger(logger: logger)
        try await options.withManager(auditLogger: auditLogger, metrics: metrics, logger: logger) { manager in
            // One throttle for both routes, so that failures anywhere add up.
            let throttle = options.throttle()
            let routes = UAPIRoutes(
                tokens: UAPITokensModule(manager: manager),
                cpanel: try options.makeAuthenticator(
                    manager: manager,
                    schemes: [.cpanel, .whm],
                    throttle: throttle,
                    metrics: metrics
                ),
                bearer: try options.makeAuthenticator(
                    manager: manager,
                    schemes: [.bearer],
                    throttle: throttle,
                    metrics: metrics
                ),
                secretScanning: keys.map { SecretScanningEndpoint(manager: manager, keys: $0, logger: logger) }
            )
            let app = Application(
                router: routes.router(),
                configuration: .init(address: .hostname(options.host, port: options.port)),
                logger: logger
            )
            // The manager's background work runs beside the server: last-used writes on their interval
            // and store maintenance. A group stops its services in reverse order, so on SIGINT/SIGTERM
            // the server stops taking requests first, then the manager writes what is still pending.
            var background: [any Service] = [TokenManagerService(manager, auditLogger: auditLogger)]
            if let keys {
                // SIGHUP reloads GitHub's keys; trapped now, so that one sent at startup ends nothing.
                let hangups = await UnixSignalsSequence(trapping: .sighup)
                background.append(SecretScanningKeysReloader(keys: keys, hangups: hangups, logger: logger))
            }
            let services = ServiceGroup(
                configuration: .init(
                    services: background + [app],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await services.run()
        }
    }
}
