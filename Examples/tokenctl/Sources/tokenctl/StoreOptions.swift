import ArgumentParser
import Foundation
import Logging
import TokenKit
import TokenKitPostgres

/// Where the tokens are: `--store PATH` (or `TOKENKIT_STORE`) for a file store, or
/// `--postgres URL` (or `TOKENKIT_POSTGRES_URL`) for a PostgreSQL database shared with servers.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The token store file (default: $TOKENKIT_STORE).")
    var store: String?

    @Option(
        name: .long,
        help: .init(
            "A PostgreSQL database instead of a file: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (default: $TOKENKIT_POSTGRES_URL).",
            valueName: "url"
        )
    )
    var postgres: String?

    /// Runs `body` with a manager over the store, which is created if it does not exist (for
    /// PostgreSQL: TokenKit's tables are created or upgraded).
    func withManager<Result: Sendable>(_ body: (TokenManager) async throws -> Result) async throws -> Result {
        let environment = ProcessInfo.processInfo.environment
        let path = store ?? (postgres == nil ? environment["TOKENKIT_STORE"] : nil)
        let url = postgres ?? (store == nil ? environment["TOKENKIT_POSTGRES_URL"] : nil)
        switch (path.flatMap { $0.isEmpty ? nil : $0 }, url.flatMap { $0.isEmpty ? nil : $0 }) {
        case (let path?, nil):
            return try await body(TokenManager(store: try FileTokenStore(path: path)))
        case (nil, let url?):
            return try await PostgresTokenStore.withStore(url: try PostgresURL(parsing: url), logger: .quiet) { store in
                try await body(TokenManager(store: store))
            }
        case (.some, .some):
            throw CommandFailure(
                message:
                    "both a store file and a PostgreSQL URL are given; pass only one of --store (TOKENKIT_STORE) and --postgres (TOKENKIT_POSTGRES_URL)."
            )
        case (nil, nil):
            throw CommandFailure(
                message:
                    "no token store given; pass --store PATH or --postgres URL, or set TOKENKIT_STORE or TOKENKIT_POSTGRES_URL."
            )
        }
    }
}

extension Logger {
    /// A logger that keeps quiet: a command prints its own errors.
    static var quiet: Logger {
        Logger(label: "tokenctl", factory: { _ in SwiftLogNoOpLogHandler() })
    }
}
