import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TokenKit

/// A ``TokenKit/TokenStore`` in PostgreSQL, shared by every server instance, that validates from
/// memory and hears about every change within a bound.
///
/// ```swift
/// let url = try PostgresURL(parsing: "postgres://app:secret@db.internal:5432/app")
/// // Runs the pool and the change feed, and creates or upgrades the tables, around the closure.
/// try await PostgresTokenStore.withStore(url: url, configuration: .init(maximumStaleness: .milliseconds(500))) {
///     store in
///     let manager = TokenManager(store: store)
///     let services = ServiceGroup(
///         configuration: .init(
///             services: [TokenManagerService(manager), app],   // TokenKitHummingbird's service, your server
///             gracefulShutdownSignals: [.sigterm, .sigint],
///             logger: logger
///         )
///     )
///     try await services.run()
/// }
/// ```
///
/// A server that runs the pool in a service group of its own creates the store with
/// ``init(client:configuration:logger:)``, runs the client and the store (``run()``) as services,
/// and calls ``migrate()`` once the client runs, before it takes requests.
///
/// ## What runs where
///
/// - **Every write** is one statement or one short transaction on the database, which enforces
///   the contract: unique ids and digests, one holder per owner and name (a partial unique index),
///   the live-token cap under a per-owner advisory lock. Every write announces the digests of the
///   records it adds, changes or removes with `NOTIFY` in the same transaction.
/// - **Look-ups by digest** — every validation — are answered from a bounded in-memory cache of
///   what this instance looked up recently (records, and digests with no record), kept fresh by
///   the change feed that ``run()`` runs. A digest the cache does not hold is looked up in the
///   database once.
/// - **Everything else** (lists, look-ups by id, expiry warnings) asks the database.
///
/// ## The staleness contract
///
/// A change committed through any instance is honoured by this one within
/// ``Configuration/maximumStaleness``. The change feed proves its freshness with heartbeats; when
/// it cannot (lost connection, paused or stopped server), validations go to the database once the
/// bound has passed, and when the database cannot answer either they fail with
/// ``TokenKit/TokenKitError/Code/storageFailure`` (HTTP 503) — never an accept of a token that
/// may have been revoked.
public final class PostgresTokenStore: TokenStore, Service {
    /// The pool, logger and timeout every call uses.
    let session: DatabaseSession
    /// The tables' schema.
    let schema: PostgresSchema
    /// The configuration the store was made with.
    public let configuration: Configuration
    /// The records validated recently.
    let cache: TokenCache
    /// What keeps the cache fresh.
    let feed: ChangeFeed

    /// A store on `client`'s database.
    ///
    /// Run `client` (it is a `Service`) and this store's ``run()`` for as long as the store is
    /// used, and call ``migrate()`` once before its first use.
    ///
    /// - Parameters:
    ///   - client: The connection pool. The store holds one of its connections for the change
    ///     feed, and leases others per call.
    ///   - configuration: The schema, staleness bound, cache size and timeout.
    ///   - logger: Where the store reports a lost change feed. postgres-nio logs each statement
    ///     at trace level to it too; no token secret is ever in a statement.
    /// - Throws: ``TokenKit/TokenKitError/Code/invalidConfiguration`` for a configuration out of
    ///   range.
    public init(
        client: PostgresClient,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "TokenKitPostgres")
    ) throws(TokenKitError) {
        try configuration.check()
        self.configuration = configuration
        schema = try PostgresSchema(configuration.schema)
        session = DatabaseSession(client: client, logger: logger, timeout: configuration.queryTimeout)
        cache = TokenCache(capacity: configuration.cacheCapacity)
        feed = ChangeFeed(
            session: session,
            channel: schema.channel,
            cache: cache,
            maximumStaleness: configuration.maximumStaleness
        )
    }

    /// Runs the change feed until the task is cancelled or the service group shuts down.
    ///
    /// Until it runs, and whenever it has lost its connection for longer than
    /// ``Configuration/maximumStaleness``, validations ask the database.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.feed.run()
        }
    }

    /// Whether validations are answered from memory now: the change feed runs and has proved its
    /// freshness within ``Configuration/maximumStaleness``. For health checks.
    public var isServingFromMemory: Bool {
        cache.capacity > 0 && cache.isFresh(at: .now)
    }

    // MARK: Hasher

    public func bindHasher(_ identity: TokenHasherIdentity) async throws {
        try identity.check()
        let metadata = schema.metadata
        let stored = try await session.withConnection("recording the hasher") { connection -> TokenHasherIdentity? in
            try await self.session.execute(
                """
                INSERT INTO \(unescaped: metadata) (id, hasher_algorithm, key_fingerprint)
                VALUES (1, \(identity.algorithm), \(identity.keyFingerprint))
                ON CONFLICT (id) DO NOTHING
                """,
                on: connection
            )
            let rows = try await self.session.query(
                "SELECT hasher_algorithm, key_fingerprint FROM \(unescaped: metadata) WHERE id = 1",
                on: connection
            )
            for try await (algorithm, fingerprint) in rows.decode((String, String).self) {
                return TokenHasherIdentity(algorithm: algorithm, keyFingerprint: fingerprint)
            }
            return nil
        }
        guard let stored else {
            throw TokenKitError(
                .storageFailure,
                "The hasher identity was written but does not read back from \(metadata)."
            )
        }
        guard stored == identity else {
            throw TokenKitError.hasherMismatch(stored: stored, given: identity)
        }
    }

    // MARK: Look-ups

    public func record(forDigest digest: TokenDigest) async throws -> TokenRecord? {
        switch cache.lookup(digest, now: .now) {
        case .hit(let record):
            return record
        case .miss(let epoch):
            let record = try await fetchRecord(forDigest: digest)
            cache.fill(digest, record, epoch: epoch)
            return record
        case .stale:
            return try await fetchRecord(forDigest: digest)
        }
    }

    /// The record with `digest` when the cache holds a fresh answer (a record or an absence);
    /// otherwise unavailable, and the manager awaits ``record(forDigest:)``, which asks the database.
    public func immediateRecord(forDigest digest: TokenDigest) -> ImmediateLookup {
        guard case .hit(let record) = cache.lookup(digest, now: .now) else { return .unavailable }
        return record.map(ImmediateLookup.found) ?? .notFound
    }

    /// The record with `digest`, from the database.
    func fetchRecord(forDigest digest: TokenDigest) async throws(TokenKitError) -> TokenRecord? {
        try await selectRecords(
            "validating a token",
            "SELECT \(unescaped: TokenRow.columns) FROM \(unescaped: schema.tokens) WHERE digest = \(ByteBuffer(bytes: digest.bytes))"
        ).first
    }

    public func record(id: TokenID) async throws -> TokenRecord? {
        try await selectRecords(
            "looking a token up",
            "SELECT \(unescaped: TokenRow.columns) FROM \(unescaped: schema.tokens) WHERE id = \(id.description)"
        ).first
    }

    public func records(owner: String) async throws -> [TokenRecord] {
        try await selectRecords(
            "listing tokens",
            """
            SELECT \(unescaped: TokenRow.columns) FROM \(unescaped: schema.tokens)
             WHERE owner = \(owner) ORDER BY created_at, id
            """
        )
    }

    public func records(expiringBetween start: Date, and end: Date) async throws -> [TokenRecord] {
        // Bounds outside the storable dates (such as `.distantFuture`) select what the range
        // inside them does; the bounds are only compared, never stored.
        let range = TokenStoreRules.dateRange
        guard start < end, start <= range.upperBound, end > range.lowerBound else { return [] }
        let from = try PostgresTimestamp(TokenStoreRules.normalized(max(start, range.lowerBound)))
        let to = try PostgresTimestamp(TokenStoreRules.normalized(min(end, range.upperBound)))
        return try await selectRecords(
            "listing expiring tokens",
            """
            SELECT \(unescaped: TokenRow.columns) FROM \(unescaped: schema.tokens)
             WHERE expires_at >= \(from) AND expires_at < \(to)
               AND (revoked_at IS NULL OR revoked_at > \(from))
             ORDER BY expires_at, id
            """
        )
    }

    /// Runs one `SELECT` of records.
    private func selectRecords(_ operation: String, _ query: PostgresQuery) async throws(TokenKitError) -> [TokenRecord]
    {
        try await session.withConnection(operation) { connection in
            try await Self.records(from: self.session.query(query, on: connection))
        }
    }

    /// Decodes every row of `rows`, whose first columns are ``TokenRow/columns``.
    static func records(from rows: PostgresRowSequence) async throws -> [TokenRecord] {
        var records: [TokenRecord] = []
        for try await row in rows {
            records.append(try TokenRow.record(from: row))
        }
        return records
    }
}
