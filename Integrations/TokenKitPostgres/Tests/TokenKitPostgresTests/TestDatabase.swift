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

    /// The configuration the tests use: a short bound, so that staleness tests run quickly, and a
    /// query timeout long enough for a 2-core machine busy with builds (at 3 s, a `COMMIT` among
    /// the concurrent inserts of a conformance check once timed out under such load).
    static var configuration: PostgresTokenStore.Configuration {
        PostgresTokenStore.Configuration(maximumStaleness: .milliseconds(300), queryTimeout: .seconds(10))
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
            // The server may be gone (a test stopped it): dropping the schema is then moot, and
            // the store's session gives up after its timeout.
            _ = try? await stores[0].session.withConnection("dropping the test schema") { connection in
                try await stores[0].session.execute("DROP SCHEMA \(unescaped: schema) CASCADE", on: connection)
            }
            group.cancelAll()
            return try outcome.get()
        }
    }

    /// Validates `issued` through `manager` (over `store`) until `store` holds the token in
    /// memory: the first validation records a first use, which changes the record, and a look-up
    /// while the feed is briefly stale (a loaded machine) keeps nothing.
    static func validateUntilCached(
        _ issued: IssuedToken,
        manager: TokenManager,
        store: PostgresTokenStore
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            if case .hit = store.cache.lookup(issued.record.digest, now: .now) { return }
            guard ContinuousClock.now < deadline else {
                throw TokenKitError(.storageFailure, "the token was not kept in memory within 10 seconds")
            }
            #expect(try await manager.validate(issued.secret).record != nil)
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Waits until `store`'s change feed has proved its freshness.
    static func waitUntilServingFromMemory(
        _ store: PostgresTokenStore,
        within limit: Duration = .seconds(15)
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while !store.isServingFromMemory {
            guard ContinuousClock.now < deadline else {
                throw TokenKitError(.storageFailure, "the change feed did not become fresh within \(limit)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A PostgreSQL server of a test's own, made and removed with the cluster script, that the test
/// may stop and start.
struct PrivateServer: Sendable {
    let directory: String
    let url: PostgresURL

    /// Makes and starts a server in a new temporary folder.
    static func start() async throws -> PrivateServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenkit-pg-\(TokenID.random())")
            .path
        try await run("create", directory)
        try await run("start", directory)
        let port = try String(contentsOfFile: directory + "/port", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        return PrivateServer(
            directory: directory,
            url: try PostgresURL(parsing: "postgres://postgres@127.0.0.1:\(port)/postgres")
        )
    }

    /// Runs `body` with a new server, and removes the server afterwards, whatever happens.
    static func with(_ body: (PrivateServer) async throws -> Void) async throws {
        let server = try await start()
        do {
            try await body(server)
        } catch {
            await server.destroy()
            throw error
        }
        await server.destroy()
    }

    func stop() async throws { try await Self.run("stop", directory) }
    func restart() async throws { try await Self.run("start", directory) }
    func destroy() async { _ = try? await Self.run("destroy", directory) }

    /// Runs the cluster script without blocking a thread of the concurrency pool.
    private static func run(_ arguments: String...) async throws {
        let script = try #require(
            TestDatabase.clusterScript,
            "TOKENKIT_POSTGRES_CLUSTER is not set; run the tests through Scripts/postgres-cluster.sh run"
        )
        let process = Process()
        // A child inherits the signals this process's threads block; PostgreSQL's server needs
        // them (its start-up waits for a signal), so the script runs with none blocked, and
        // without the descriptors this process holds open (the server, a daemon, would keep
        // them open after the script has ended).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", "-c",
                "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])",
                "/bin/bash", script,
            ] + arguments
        let status = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        guard status == 0 else {
            throw TokenKitError(.storageFailure, "postgres-cluster.sh \(arguments.joined(separator: " ")) failed")
        }
    }
}
