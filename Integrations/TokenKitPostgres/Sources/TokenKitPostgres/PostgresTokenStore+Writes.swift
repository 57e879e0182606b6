import Foundation
import PostgresNIO
import TokenKit

// Every write, as the article "Implementing a token store" gives it in SQL: one transaction each,
// by-owner writes after the owner's advisory lock, changes announced in the same transaction.
extension PostgresTokenStore {
    public func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) async throws {
        try TokenStoreRules.checkNewRecord(record)
        let bindings = try TokenRow.bindings(of: record)
        let tokens = schema.tokens
        let createdAt = try PostgresTimestamp(record.createdAt)
        _ = try await writeTransaction("creating a token", owner: record.owner) { connection in
            do {
                try await self.session.execute(
                    PostgresQuery(
                        unsafeSQL:
                            "INSERT INTO \(tokens) (\(TokenRow.columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        binds: bindings
                    ),
                    on: connection
                )
            } catch let error where PostgresErrorMapping.sqlState(of: error) == PostgresErrorMapping.uniqueViolation {
                if PostgresErrorMapping.constraint(of: error) == PostgresSchema.duplicateNameConstraint {
                    throw TokenKitError.duplicateName(record.name, renaming: false)
                }
                throw TokenKitError.duplicateToken(id: record.id)
            }
            if let limit = maximumLiveTokensPerOwner {
                let rows = try await self.session.query(
                    """
                    SELECT count(*) FROM \(unescaped: tokens)
                     WHERE owner = \(record.owner) AND id <> \(record.id.description)
                       AND (revoked_at IS NULL OR revoked_at > \(createdAt))
                       AND (expires_at IS NULL OR expires_at > \(createdAt))
                    """,
                    on: connection
                )
                for try await live in rows.decode(Int64.self) where live >= limit {
                    throw TokenKitError.tokenLimitReached(owner: record.owner, limit: limit)
                }
            }
            // Announced: an instance may hold the digest's absence (someone presented the token
            // before it existed).
            return [record]
        }
    }

    public func rename(owner: String, name: String, to newName: String) async throws -> TokenRecord {
        try TokenStoreRules.checkName(newName)
        let tokens = schema.tokens
        return try await writeTransaction("renaming a token", owner: owner) { connection in
            let renamed: [TokenRecord]
            do {
                renamed = try await Self.records(
                    from: self.session.query(
                        """
                        UPDATE \(unescaped: tokens) SET name = \(newName)
                         WHERE owner = \(owner) AND name = \(name) AND revoked_at IS NULL
                        RETURNING \(unescaped: TokenRow.columns)
                        """,
                        on: connection
                    )
                )
            } catch let error where PostgresErrorMapping.sqlState(of: error) == PostgresErrorMapping.uniqueViolation {
                throw TokenKitError.duplicateName(newName, renaming: true)
            }
            guard let record = renamed.first else { throw TokenKitError.tokenNotFound(owner: owner, name: name) }
            return [record]
        }[0]
    }

    public func revoke(owner: String, name: String, at date: Date) async throws -> LineageChange {
        let revokedAt = try PostgresTimestamp(date)
        return try await lineageWrite("revoking a token", owner: owner, name: name) {
            """
            UPDATE \(unescaped: schema.tokens) t SET revoked_at = \(revokedAt)
              FROM holder h
             WHERE t.owner = \(owner)
               AND (t.id = h.id OR (t.lineage_id = h.lineage_id AND t.revoked_at > \(revokedAt)))
            RETURNING \(unescaped: TokenRow.aliasedColumns), t.id = h.id
            """
        }
    }

    public func revoke(id: TokenID, at date: Date) async throws -> LineageChange {
        let revokedAt = try PostgresTimestamp(date)
        guard let target = try await record(id: id) else { throw TokenKitError.tokenNotFound(id: id) }
        let tokens = schema.tokens
        let records = try await writeTransaction("revoking a token", owner: target.owner) { connection in
            // The record, and the records of its lineage still in grace at `date` that it replaced
            // (TokenStoreRules.precedes): all of them when it holds its name, otherwise those
            // created no later than it. The CTE reads the rows as they were before the update.
            let rows = try await self.session.query(
                """
                WITH target AS (SELECT id, owner, lineage_id, created_at, revoked_at FROM \(unescaped: tokens) WHERE id = \(id.description))
                UPDATE \(unescaped: tokens) t
                   SET revoked_at = LEAST(t.revoked_at, \(revokedAt))
                  FROM target r
                 WHERE t.owner = r.owner
                   AND (t.id = r.id
                        OR (t.lineage_id = r.lineage_id AND t.revoked_at > \(revokedAt)
                            AND (r.revoked_at IS NULL OR t.created_at <= r.created_at)))
                RETURNING \(unescaped: TokenRow.aliasedColumns), t.id = r.id
                """,
                on: connection
            )
            return try await Self.lineageRows(from: rows)
        }
        guard let change = Self.lineageChange(records, holderID: id) else { throw TokenKitError.tokenNotFound(id: id) }
        return change
    }

    public func setDisabled(owner: String, name: String, at date: Date?, now: Date) async throws -> LineageChange {
        let disabledAt = try date.map { date throws(TokenKitError) in try PostgresTimestamp(date) }
        let lineageAt = try PostgresTimestamp(now)
        return try await lineageWrite(date == nil ? "enabling a token" : "disabling a token", owner: owner, name: name)
        {
            """
            UPDATE \(unescaped: schema.tokens) t
               SET disabled_at = CASE WHEN \(disabledAt)::timestamptz IS NULL THEN NULL
                                      ELSE LEAST(t.disabled_at, \(disabledAt)) END
              FROM holder h
             WHERE t.owner = \(owner)
               AND (t.id = h.id OR (t.lineage_id = h.lineage_id AND t.revoked_at > \(lineageAt)))
            RETURNING \(unescaped: TokenRow.aliasedColumns), t.id = h.id
            """
        }
    }

    public func changeLimits(
        _ change: TokenLimitsChange,
        owner: String,
        name: String,
        now: Date
    ) async throws -> LineageChange {
        try TokenStoreRules.checkLimits(change)
        let lineageAt = try PostgresTimestamp(now)
        let changesExpiry = change.expiry != nil
        var expiresAt: PostgresTimestamp?
        if case .at(let date) = change.expiry { expiresAt = try PostgresTimestamp(date) }
        let scopes = change.scopes.map { $0.sorted() }
        let networks = change.allowedNetworks.map { $0.map(\.description) }
        return try await lineageWrite("changing a token's limits", owner: owner, name: name) {
            """
            UPDATE \(unescaped: schema.tokens) t
               SET expires_at       = CASE WHEN \(changesExpiry) THEN \(expiresAt)::timestamptz ELSE t.expires_at END,
                   scopes           = coalesce(\(scopes)::text[], t.scopes),
                   allowed_networks = coalesce(\(networks)::text[], t.allowed_networks)
              FROM holder h
             WHERE t.owner = \(owner)
               AND (t.id = h.id OR (t.lineage_id = h.lineage_id AND t.revoked_at > \(lineageAt)))
            RETURNING \(unescaped: TokenRow.aliasedColumns), t.id = h.id
            """
        }
    }

    public func delete(owner: String, name: String, now: Date) async throws -> LineageChange {
        let lineageAt = try PostgresTimestamp(now)
        return try await lineageWrite("deleting a token", owner: owner, name: name) {
            """
            DELETE FROM \(unescaped: schema.tokens) t
             USING holder h
             WHERE t.owner = \(owner)
               AND (t.id = h.id OR (t.lineage_id = h.lineage_id AND t.revoked_at > \(lineageAt)))
            RETURNING \(unescaped: TokenRow.aliasedColumns), t.id = h.id
            """
        }
    }

    public func delete(id: TokenID) async throws -> TokenRecord {
        let tokens = schema.tokens
        let deleted = try await writeTransaction("deleting a token", owner: nil) { connection in
            try await Self.records(
                from: self.session.query(
                    "DELETE FROM \(unescaped: tokens) WHERE id = \(id.description) RETURNING \(unescaped: TokenRow.columns)",
                    on: connection
                )
            )
        }
        guard let record = deleted.first else { throw TokenKitError.tokenNotFound(id: id) }
        return record
    }

    public func rotate(
        owner: String,
        name: String,
        successor: TokenSuccessor,
        revokingPreviousAt graceEnd: Date
    ) async throws -> LineageChange {
        try TokenStoreRules.checkDate(successor.createdAt)
        if case .at(let date) = successor.expiry { try TokenStoreRules.checkDate(date) }
        let revokedAt = try PostgresTimestamp(graceEnd)
        let tokens = schema.tokens
        let hook = configuration.afterFirstWriteOfRotation
        let records = try await writeTransaction("rotating a token", owner: owner) { connection in
            let previous = try await Self.records(
                from: self.session.query(
                    """
                    UPDATE \(unescaped: tokens) SET revoked_at = \(revokedAt)
                     WHERE owner = \(owner) AND name = \(name) AND revoked_at IS NULL
                    RETURNING \(unescaped: TokenRow.columns)
                    """,
                    on: connection
                )
            )
            guard let previous = previous.first else { throw TokenKitError.tokenNotFound(owner: owner, name: name) }
            try await hook?(connection)
            let next = TokenStoreRules.successor(of: previous, successor)
            do {
                try await self.session.execute(
                    PostgresQuery(
                        unsafeSQL:
                            "INSERT INTO \(tokens) (\(TokenRow.columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        binds: try TokenRow.bindings(of: next)
                    ),
                    on: connection
                )
            } catch let error where PostgresErrorMapping.sqlState(of: error) == PostgresErrorMapping.uniqueViolation {
                throw TokenKitError.duplicateToken(id: next.id)
            }
            // Both are announced: the previous record changed, and an instance may hold the new
            // digest's absence. The new one is listed first for the return value below.
            return [next, previous]
        }
        return LineageChange(token: records[0], predecessors: [records[1]])
    }

    public func revokeAll(owner: String, at date: Date) async throws -> [TokenRecord] {
        let revokedAt = try PostgresTimestamp(date)
        let tokens = schema.tokens
        return try await writeTransaction("revoking an account's tokens", owner: owner) { connection in
            try await Self.records(
                from: self.session.query(
                    """
                    UPDATE \(unescaped: tokens) SET revoked_at = \(revokedAt)
                     WHERE owner = \(owner) AND (revoked_at IS NULL OR revoked_at > \(revokedAt))
                    RETURNING \(unescaped: TokenRow.columns)
                    """,
                    on: connection
                )
            )
        }.sorted(by: TokenStoreRules.isOlder)
    }

    public func purge(before cutoff: Date) async throws -> [TokenRecord] {
        let at = try PostgresTimestamp(cutoff)
        let tokens = schema.tokens
        return try await writeTransaction("purging tokens", owner: nil) { connection in
            try await Self.records(
                from: self.session.query(
                    "DELETE FROM \(unescaped: tokens) WHERE revoked_at <= \(at) OR expires_at <= \(at) RETURNING \(unescaped: TokenRow.columns)",
                    on: connection
                )
            )
        }
    }

    public func recordUse(_ uses: [TokenID: Date]) async throws {
        if uses.isEmpty { return }
        // Sorted by id, so that concurrent batches from several instances lock rows in one order.
        let sorted = uses.sorted { $0.key < $1.key }
        let ids = sorted.map { $0.key.description }
        let dates = try sorted.map { use throws(TokenKitError) in try PostgresTimestamp(use.value) }
        let tokens = schema.tokens
        _ = try await writeTransaction("recording token use", owner: nil) { connection in
            try await Self.records(
                from: self.session.query(
                    """
                    UPDATE \(unescaped: tokens) t SET last_used_at = u.used_at
                      FROM unnest(\(ids)::text[], \(dates)::timestamptz[]) AS u(id, used_at)
                     WHERE t.id = u.id
                       AND (t.last_used_at IS NULL OR t.last_used_at < u.used_at)
                    RETURNING \(unescaped: TokenRow.aliasedColumns)
                    """,
                    on: connection
                )
            )
        }
    }

    // MARK: Helpers

    /// Runs `body` in a transaction, after the owner's advisory lock when `owner` is given, and
    /// announces the digests of the records it returns (or of those `announcing` picks) with
    /// `NOTIFY` before it commits.
    func writeTransaction(
        _ operation: String,
        owner: String?,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> [TokenRecord],
        announcing: @escaping @Sendable ([TokenRecord]) -> [TokenDigest] = { $0.map(\.digest) }
    ) async throws(TokenKitError) -> [TokenRecord] {
        let lockKey = owner.map { "\(schema.name):\($0)" }
        let channel = schema.channel
        let records: [TokenRecord]
        do {
            records = try await transaction(operation, lockKey: lockKey, channel: channel, body, announcing: announcing)
        } catch {
            // A failed commit may have committed after all: forget everything rather than serve
            // what it may have changed. (Other errors changed nothing; forgetting costs look-ups.)
            if error.code == .storageFailure { cache.forgetAll() }
            throw error
        }
        // This instance sees its own writes at once; others hear of them through the feed.
        cache.forget(announcing(records))
        return records
    }

    private func transaction(
        _ operation: String,
        lockKey: String?,
        channel: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> [TokenRecord],
        announcing: @escaping @Sendable ([TokenRecord]) -> [TokenDigest]
    ) async throws(TokenKitError) -> [TokenRecord] {
        try await session.transaction(operation) { connection in
            if let lockKey {
                try await self.session.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\(lockKey), 0))",
                    on: connection
                )
            }
            let records = try await body(connection)
            for payload in ChangeMessage.payloads(forChanged: announcing(records)) {
                try await self.session.execute("SELECT pg_notify(\(channel), \(payload))", on: connection)
            }
            return records
        }
    }

    /// A by-name write that follows the lineage: `statement()` is the write, run with a
    /// `holder` CTE (the record of `owner` that holds `name`) in front, returning the record
    /// columns and whether each row is the holder.
    private func lineageWrite(
        _ operation: String,
        owner: String,
        name: String,
        statement: () -> PostgresQuery
    ) async throws(TokenKitError) -> LineageChange {
        let tokens = schema.tokens
        var query = statement()
        query.sql =
            "WITH holder AS (SELECT id, lineage_id FROM \(tokens) WHERE owner = $\(query.binds.count + 1) AND name = $\(query.binds.count + 2) AND revoked_at IS NULL) "
            + query.sql
        query.binds.append(owner)
        query.binds.append(name)
        let finalQuery = query
        let rows = try await writeTransaction(operation, owner: owner) { connection in
            try await Self.lineageRows(from: self.session.query(finalQuery, on: connection))
        }
        guard let change = Self.lineageChange(rows, holderID: nil) else {
            throw TokenKitError.tokenNotFound(owner: owner, name: name)
        }
        return change
    }

    /// Decodes rows of record columns followed by a boolean "is the holder" column, the holder
    /// first.
    static func lineageRows(from rows: PostgresRowSequence) async throws -> [TokenRecord] {
        var holder: [TokenRecord] = []
        var others: [TokenRecord] = []
        for try await row in rows {
            let record = try TokenRow.record(from: row)
            // The column after the record's: whether the row is the holder.
            if try row.makeRandomAccess()[12].decode(Bool.self) {
                holder.append(record)
            } else {
                others.append(record)
            }
        }
        return holder + others.sorted(by: TokenStoreRules.isOlder)
    }

    /// The rows' records as a change: the first is the holder (or the record `holderID` names).
    static func lineageChange(_ records: [TokenRecord], holderID: TokenID?) -> LineageChange? {
        guard let holder = records.first, holderID == nil || holder.id == holderID else { return nil }
        return LineageChange(token: holder, predecessors: Array(records.dropFirst()))
    }
}
