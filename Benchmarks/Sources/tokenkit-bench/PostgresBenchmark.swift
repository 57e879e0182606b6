import Foundation
import Logging
import PostgresNIO
import TokenKit
import TokenKitPostgres

/// PostgresTokenStore against the alternatives a team would write: validation from the store's
/// cache against a store that queries the database on every validation (the same store with
/// `cacheCapacity: 0`), revocation propagation between two instances, and durable creates.
///
/// Runs when `TOKENKIT_POSTGRES_URL` names a server (`Integrations/TokenKitPostgres/Scripts/postgres-cluster.sh run`
/// starts one); each measurement uses a schema of its own, dropped afterwards.
enum PostgresBenchmark {
    /// The server, if the environment names one.
    static var url: PostgresURL? {
        ProcessInfo.processInfo.environment["TOKENKIT_POSTGRES_URL"].flatMap { text in
            // A URL that does not parse is reported as "not run" in the report.
            try? PostgresURL(parsing: text)
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "tokenkit-bench")
        logger.logLevel = .error
        return logger
    }()

    /// Runs `body` with `count` stores (separate pools: separate instances) on a new schema.
    static func withStores<Result: Sendable>(
        url: PostgresURL,
        count: Int,
        configuration: PostgresTokenStore.Configuration,
        _ body: ([PostgresTokenStore], PostgresClient) async throws -> Result
    ) async throws -> Result {
        let schema = "bench_" + TokenID.random().description.prefix(12)
        let clients = (0..<count).map { _ in PostgresClient(configuration: url.clientConfiguration) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { await client.run() } }
            defer { group.cancelAll() }
            try await clients[0].query("CREATE SCHEMA \(unescaped: schema)")
            var configuration = configuration
            configuration.schema = schema
            let stores = try clients.map { client in
                try PostgresTokenStore(client: client, configuration: configuration, logger: logger)
            }
            try await stores[0].migrate()
            for store in stores { group.addTask { try await store.run() } }
            let deadline = ContinuousClock.now + .seconds(30)
            while configuration.cacheCapacity > 0, stores.contains(where: { !$0.isServingFromMemory }) {
                guard ContinuousClock.now < deadline else { throw CancellationError() }
                try await Task.sleep(for: .milliseconds(5))
            }
            let result = try await body(stores, clients[0])
            try await clients[0].query("DROP SCHEMA \(unescaped: schema) CASCADE")
            return result
        }
    }

    /// Loads `records` in batches of multi-row inserts (the store's own insert is one transaction
    /// per token: far too slow to load a million).
    static func load(_ records: [TokenRecord], schema: String, client: PostgresClient) async throws {
        let batch = 10_000
        // Used just now, as in a running system: validations then write no first use each.
        let usedAt = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        for start in stride(from: 0, to: records.count, by: batch) {
            let slice = records[start..<min(start + batch, records.count)]
            let ids = slice.map(\.id.description)
            let owners = slice.map(\.owner)
            let names = slice.map(\.name)
            let created = slice.map(\.createdAt)
            let expires = slice.map { $0.expiresAt ?? Date(timeIntervalSince1970: 0) }
            let scopes = slice.map { $0.scopes.sorted().joined(separator: ",") }
            let digests = slice.map { ByteBuffer(bytes: $0.digest.bytes) }
            try await client.query(
                """
                INSERT INTO \(unescaped: schema).tokenkit_tokens
                       (id, owner, name, created_at, expires_at, scopes, allowed_networks, last_used_at, digest,
                        lineage_id)
                SELECT i, o, n, c, NULLIF(e, 'epoch'::timestamptz),
                       CASE WHEN s = '' THEN '{}'::text[] ELSE string_to_array(s, ',') END, '{}'::text[],
                       \(usedAt)::timestamptz, d, i
                  FROM unnest(\(ids)::text[], \(owners)::text[], \(names)::text[], \(created)::timestamptz[],
                              \(expires)::timestamptz[], \(scopes)::text[], \(digests)::bytea[])
                       AS u(i, o, n, c, e, s, d)
                """
            )
        }
        try await client.query("ANALYZE \(unescaped: schema).tokenkit_tokens")
    }

    /// Validations per second on one task, over `operations` presented tokens.
    static func rate(_ manager: TokenManager, _ presented: [String], operations: Int) async throws -> Double {
        let rounds = try await Statistics.rounds(3) {
            var valid = 0
            for index in 0..<operations {
                if case .valid = try await manager.validate(presented[index % presented.count]) { valid += 1 }
            }
            blackHole(valid)
        }
        return Double(operations) / Statistics.percentile(rounds, 0.5)
    }

    /// The validation rows for a store of `records`: cached against query-per-validation, with
    /// the in-memory store's rate (same run) for the ratio.
    static func validationRows(
        url: PostgresURL,
        records: [TokenRecord],
        presented: [String],
        inMemory: Double,
        quick: Bool
    ) async throws -> [Report.Row] {
        let label = records.count.formatted()
        let cached = try await withStores(
            url: url,
            count: 1,
            configuration: .init(cacheCapacity: records.count)
        ) { stores, client in
            try await load(records, schema: stores[0].configuration.schema, client: client)
            // Last uses were loaded as "just now": no validation below writes one.
            let manager = TokenManager(store: stores[0], configuration: ValidationBenchmark.steadyState)
            // Warm up: every token is looked up once (a database query, 16 at a time) and kept in
            // memory.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for part in 0..<16 {
                    group.addTask {
                        for index in stride(from: part, to: presented.count, by: 16) {
                            _ = try await manager.validate(presented[index])
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await manager.flushUsage()
            return try await rate(manager, presented, operations: quick ? 50_000 : 1_000_000)
        }
        let queried = try await withStores(url: url, count: 1, configuration: .init(cacheCapacity: 0)) {
            stores,
            client in
            try await load(records, schema: stores[0].configuration.schema, client: client)
            let manager = TokenManager(store: stores[0], configuration: ValidationBenchmark.steadyState)
            for token in presented.prefix(2_000) { _ = try await manager.validate(token) }
            try await manager.flushUsage()
            return try await rate(manager, presented, operations: quick ? 2_000 : 20_000)
        }
        return [
            .init(
                benchmark: "validate, \(label) tokens, 1 task (PostgresTokenStore, cached, vs in memory)",
                tokenKit: Format.rate(cached),
                peer: Format.rate(inMemory),
                ratio: Format.ratio(inMemory / cached) + " slower",
                target: "≤ 1.2× slower"
            ),
            .init(
                benchmark: "validate, \(label) tokens, 1 task (PostgresTokenStore, cached, vs a query per validation)",
                tokenKit: Format.rate(cached),
                peer: Format.rate(queried),
                ratio: Format.ratio(cached / queried),
                target: "≥ 50×"
            ),
        ]
    }

    /// Revocation propagation between two instances: revoke through A, then validate through B
    /// (which holds the token in memory) until it refuses; p50 and p99 over `rounds` tokens.
    static func propagationRow(url: PostgresURL, quick: Bool) async throws -> Report.Row {
        let rounds = quick ? 20 : 300
        let delays = try await withStores(url: url, count: 2, configuration: .init(maximumStaleness: .seconds(1))) {
            stores,
            _ in
            let a = TokenManager(store: stores[0])
            let b = TokenManager(store: stores[1])
            var delays: [Double] = []
            for round in 0..<rounds {
                let issued = try await a.create(owner: "bench", name: "t\(round)", expiry: .never)
                // Twice: the first validation records the first use, which changes the record.
                for _ in 0..<3 { _ = try await b.validate(issued.secret) }
                try await b.flushUsage()
                _ = try await b.validate(issued.secret)
                _ = try await a.revoke(owner: "bench", name: "t\(round)")
                let revoked = ContinuousClock.now
                while try await b.validate(issued.secret).record != nil { await Task.yield() }
                delays.append(Statistics.seconds(ContinuousClock.now - revoked))
            }
            return delays
        }
        let p50 = Statistics.percentile(delays, 0.5)
        let p99 = Statistics.percentile(delays, 0.99)
        return .init(
            benchmark: "revocation propagation between two instances (loopback): p50 / p99",
            tokenKit: String(format: "%.2f ms / %.2f ms", p50 * 1000, p99 * 1000),
            target: "p99 < 50 ms"
        )
    }

    /// Durable creates per second through PostgresTokenStore with `writers` concurrent tasks.
    static func durableCreates(url: PostgresURL, writers: Int, seconds: Double) async throws -> Double {
        try await withStores(url: url, count: 1, configuration: .init()) { stores, _ in
            try await DurableWriteBenchmark.creates(into: stores[0], writers: writers, seconds: seconds)
        }
    }
}
