import Foundation
import TokenKit

/// Where a program's tokens are: a store file, or a PostgreSQL database shared with other
/// instances — what `--store PATH` and `--postgres URL` (or `TOKENKIT_STORE` and
/// `TOKENKIT_POSTGRES_URL`) choose between in `tokenctl` and the example servers.
///
/// ```swift
/// switch try TokenStoreLocation(store: options.store, postgres: options.postgres) {
/// case .file(let path): try await serve(FileTokenStore(path: path))
/// case .postgres(let url):
///     try await PostgresTokenStore.withStore(url: url, logger: logger) { try await serve($0) }
/// }
/// ```
public enum TokenStoreLocation: Sendable {
    /// A store file.
    case file(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresURL)

    /// The one location given: `store` or `postgres` if either was passed, else the environment's
    /// `TOKENKIT_STORE` or `TOKENKIT_POSTGRES_URL`. An option passed on the command line hides the
    /// environment's other variable; empty values count as not given.
    ///
    /// - Throws: ``TokenKit/TokenKitError`` with code `invalidConfiguration` when both or neither
    ///   are given, or the URL is not a PostgreSQL URL (``PostgresURL/init(parsing:)``).
    public init(
        store: String?,
        postgres: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(TokenKitError) {
        let path = (store ?? (postgres == nil ? environment["TOKENKIT_STORE"] : nil)).flatMap { $0.isEmpty ? nil : $0 }
        let url = (postgres ?? (store == nil ? environment["TOKENKIT_POSTGRES_URL"] : nil)).flatMap {
            $0.isEmpty ? nil : $0
        }
        switch (path, url) {
        case (let path?, nil):
            self = .file(path: path)
        case (nil, let url?):
            self = .postgres(try PostgresURL(parsing: url))
        case (.some, .some):
            throw TokenKitError(
                .invalidConfiguration,
                "Both a store file and a PostgreSQL URL are given; pass only one of --store (TOKENKIT_STORE) and --postgres (TOKENKIT_POSTGRES_URL)."
            )
        case (nil, nil):
            throw TokenKitError(
                .invalidConfiguration,
                "No token store is given; pass --store PATH or --postgres URL, or set TOKENKIT_STORE or TOKENKIT_POSTGRES_URL."
            )
        }
    }
}
