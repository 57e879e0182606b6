import PostgresNIO
import TokenKit

extension PostgresTokenStore {
    /// Creates TokenKit's tables in the configured schema, or upgrades them, and returns the
    /// schema version they are at.
    ///
    /// Call it once at start-up, before the store's first use; it does nothing when the tables are
    /// up to date. Instances that start at once may all call it: one transaction, under an
    /// advisory lock, applies each migration once and records it in `tokenkit_migrations`.
    ///
    /// - Returns: The schema version after migrating.
    /// - Throws: ``TokenKit/TokenKitError/Code/invalidConfiguration`` when the database holds a
    ///   newer schema than this version of the package knows (upgrade it); a storage error when
    ///   the database refuses, such as ``TokenKit/TokenKitError/Code/permissionDenied`` for a user
    ///   that may not create tables.
    @discardableResult
    public func migrate() async throws(TokenKitError) -> Int {
        let schema = self.schema
        let session = self.session
        return try await session.transaction("migrating TokenKit's tables") { connection in
            try await session.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(\(schema.migrationLockKey), 0))",
                on: connection
            )
            try await session.execute(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE TABLE IF NOT EXISTS \(schema.migrations) (
                            version     integer PRIMARY KEY,
                            description text        NOT NULL,
                            applied_at  timestamptz NOT NULL DEFAULT now()
                        )
                        """
                ),
                on: connection
            )
            var current: Int32 = 0
            let rows = try await session.query(
                "SELECT coalesce(max(version), 0)::int4 FROM \(unescaped: schema.migrations)",
                on: connection
            )
            for try await version in rows.decode(Int32.self) { current = version }
            guard current <= schema.latestVersion else {
                throw TokenKitError(
                    .invalidConfiguration,
                    "TokenKit's tables in schema \(schema.name) are at version \(current), newer than this TokenKitPostgres knows (\(schema.latestVersion)): upgrade TokenKitPostgres."
                )
            }
            for migration in schema.migrationList where migration.version > current {
                for statement in migration.statements {
                    try await session.execute(PostgresQuery(unsafeSQL: statement), on: connection)
                }
                try await session.execute(
                    "INSERT INTO \(unescaped: schema.migrations) (version, description) VALUES (\(migration.version), \(migration.description))",
                    on: connection
                )
                current = migration.version
            }
            return Int(current)
        }
    }
}
