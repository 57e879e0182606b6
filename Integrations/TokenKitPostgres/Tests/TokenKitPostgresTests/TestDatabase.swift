import Foundation
import Logging
import PostgresNIO
import Testing
import TokenKit
@testable import TokenKitPostgres

/// The PostgreSQL server the tests use: `TOKENKIT_POSTGRES_URL`, which `Scripts/postgres-cluster.sh run`
/// sets, and the same script (`TOKENKIT_POSTGRES_CLUSTER`) for tests that stop a server of their own.
enum TestDatabase {
    /// The shared server, if the environment names one.
    static let url: PostgresURL? = ProcessInfo.processInfo.environment["TOKENKIT_POSTGRES_URL"].flatMap { text in
        // A URL that does not parse leaves the tests disabled and `serverIsConfiguredWhenRequired` failing.
        try? PostgresURL(parsing: text)
    }

    /// Whether the PostgreSQL tests can run.
    static var isConfigured: Bool { url != nil }

    /// The cluster script, for tests that start and stop servers of their own.
    static let clusterScript = ProcessInfo.processInfo.environment["TOKENKIT_POSTGRES_CLUSTER"]

    /// A logger that prints warnings and worse.
    static let logger: Logger = {
        var logger = Logger(label: "TokenKitPostgresTests")
        logger.logLevel = .error
        return logger
    }()

    /// The configuration the tests use: a short bound, so that staleness tests run quickly.
    static var configuration: PostgresTokenStore.Configuration {
        PostgresTokenStore.Configuration(maximumStaleness: .milliseconds(300), queryTimeout: .seconds(3))
    }

    /// Runs `body` with `count` stores — each its own pool, as separate server instances are —
    /// on a new schema of the database at `url`, their pools and change feeds running; drops the
    /// schema afterwards.
    static func withStores<Result: Sendable>(
        count: Int = 2,
        url: PostgresURL? = TestDatabase.url,
        configuration: PostgresTokenStore.Configuration = TestDatabase.configuration,
        waitForFreshness: Bool = true,
        _ body: @Sendable ([PostgresTokenStore]) async throws -> Result
    ) async throws -> Result {
        let url = try #require(url)
        let schema = "t_" + TokenID.random().description.prefix(16)
        let clients = (0..<count).map { _ in PostgresClient(configuration: url.clientConfiguration) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { await client.run() }
            }
            try await clients[0].query("CREATE SCHEMA \(unescaped: schema)")
            var configuration = configuration
            configuration.schema = schema
            let stores = try clients.map { client throws(TokenKitError) in
                try PostgresTokenStore(client: client, configuration: configuration, logger: logger)
            }
            try await stores[0].migrate()
            for store in stores {
                group.addTask { try await store.run() }
            }
            let outcome: Swift.Result<Result, any Error>
            do {
                if waitForFreshness, configuration.cacheCapacity > 0 {
                    for store in stores { try await waitUntilServingFromMemory(store) }
                }
                outcome = .success(try await body(stores))
            } catch {
                outcome = .failure(error)
            }
            // The server may be gone (a test stopped it): dropping the schema is then moot.
            _ = try? await withTimeout(.seconds(5)) {
                try await clients[0].query("DROP SCHEMA \(unescaped: schema) CASCADE")
            }
            group.cancelAll()
            return try outcome.get()
        }
    }

    /// Waits until `store`'s change feed has proved its freshness.
    static func waitUntilServingFromMemory(_ store: PostgresTokenStore, within limit: Duration = .seconds(15)) async throws {
        let deadline = ContinuousClock.now + limit
        while !store.isServingFromMemory {
            guard ContinuousClock.now < deadline else {
                throw TokenKitError(.storageFailure, "the change feed did not become fresh within \(limit)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Runs `body`, and throws if it takes longer than `limit`.
    static func withTimeout<Value: Sendable>(
        _ limit: Duration,
        _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let value = first else { throw TokenKitError(.storageFailure, "timed out after \(limit)") }
            return value
        }
    }
}

/// A PostgreSQL server of a test's own, made and removed with the cluster script, that the test
/// may stop and start.
struct PrivateServer: Sendable {
    let directory: String
    let url: PostgresURL

    /// Makes and starts a server in a new temporary folder.
    static func start() throws -> PrivateServer {
        let script = try #require(TestDatabase.clusterScript, "TOKENKIT_POSTGRES_CLUSTER is not set; run the tests through Scripts/postgres-cluster.sh run")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenkit-pg-\(TokenID.random())").path
        try run(script, "create", directory)
        try run(script, "start", directory)
        let port = try String(contentsOfFile: directory + "/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return PrivateServer(directory: directory, url: try PostgresURL(parsing: "postgres://postgres@127.0.0.1:\(port)/postgres"))
    }

    func stop() throws { try Self.run(try #require(TestDatabase.clusterScript), "stop", directory) }
    func restart() throws { try Self.run(try #require(TestDatabase.clusterScript), "start", directory) }
    func destroy() { _ = try? Self.run(TestDatabase.clusterScript ?? "", "destroy", directory) }

    private static func run(_ script: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TokenKitError(.storageFailure, "postgres-cluster.sh \(arguments.joined(separator: " ")) failed")
        }
    }
}
