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

    /// The store file's path, for a command that applies to a file store only (`what` names it
    /// in the error).
    func filePath(for what: String) throws -> String {
        guard case .file(let path) = try TokenStoreLocation(store: store, postgres: postgres) else {
            throw CommandFailure(
                message: "\(what) applies to a file store (--store); a PostgreSQL database keeps its own indexes."
            )
        }
        return path
    }

    /// Runs `body` with a manager over the store, which is created if it does not exist (for
    /// PostgreSQL: TokenKit's tables are created or upgraded).
    func withManager<Result: Sendable>(_ body: (TokenManager) async throws -> Result) async throws -> Result {
        switch try TokenStoreLocation(store: store, postgres: postgres) {
        case .file(let path):
            return try await body(TokenManager(store: try FileTokenStore(path: path)))
        case .postgres(let url):
            return try await PostgresTokenStore.withStore(url: url, logger: .quiet) { store in
                try await body(TokenManager(store: store))
            }
        }
    }
}

extension Logger {
    /// A logger that keeps quiet: a command prints its own errors.
    static var quiet: Logger {
        Logger(label: "tokenctl", factory: { _ in SwiftLogNoOpLogHandler() })
    }
}
