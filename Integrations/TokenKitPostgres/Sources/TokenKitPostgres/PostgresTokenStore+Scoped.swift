import Logging
import PostgresNIO
import TokenKit

extension PostgresTokenStore {
    /// Connects to the database at `url`, brings TokenKit's tables up to date, and runs `body`
    /// with a store whose pool and change feed run meanwhile; stops both when `body` returns.
    ///
    /// The whole life of a store in one call, for command-line tools, scripts and servers that do
    /// not run a `ServiceGroup` of their own:
    ///
    /// ```swift
    /// let url = try PostgresURL(parsing: "postgres://app@db.internal/app")
    /// try await PostgresTokenStore.withStore(url: url) { store in
    ///     let manager = TokenManager(store: store)
    ///     print(try await manager.list(owner: "alice"))
    /// }
    /// ```
    ///
    /// A server that runs a `ServiceGroup` can instead add the client and the store to it, and
    /// call ``migrate()`` once they run.
    ///
    /// - Parameters:
    ///   - url: The database.
    ///   - configuration: The store's configuration.
    ///   - logger: Where the store and postgres-nio log.
    ///   - body: What to do with the store.
    /// - Returns: What `body` returns.
    /// - Throws: What ``migrate()`` or `body` throws.
    public static func withStore<Result: Sendable>(
        url: PostgresURL,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "TokenKitPostgres"),
        _ body: (PostgresTokenStore) async throws -> Result
    ) async throws -> Result {
        let client = PostgresClient(configuration: url.clientConfiguration, backgroundLogger: logger)
        let store = try PostgresTokenStore(client: client, configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            try await store.migrate()
            return try await body(store)
        }
    }
}
