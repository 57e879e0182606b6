import CSQLite
import Foundation
import TokenKit

/// A token table in SQLite as a Swift team would set it up: WAL, `synchronous=FULL`, a unique
/// index on the digest, one insert per transaction.
final class SQLiteTokenTable {
    private var database: OpaquePointer?
    private var insert: OpaquePointer?
    private var lookUp: OpaquePointer?

    /// Opens (creating if needed) the database at `path`.
    init(path: String) throws {
        guard
            sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
                == SQLITE_OK
        else { throw SQLiteError(message: "open \(path)") }
        sqlite3_busy_timeout(database, 60_000)
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
        try execute(
            """
            CREATE TABLE IF NOT EXISTS tokens (
                id BLOB PRIMARY KEY, digest BLOB NOT NULL UNIQUE, owner TEXT NOT NULL, name TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL, scopes TEXT NOT NULL, last_used_at REAL, revoked_at REAL
            )
            """
        )
        insert = try prepare(
            "INSERT INTO tokens (id, digest, owner, name, created_at, expires_at, scopes) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        lookUp = try prepare(
            "SELECT owner, name, created_at, expires_at, scopes, revoked_at FROM tokens WHERE digest = ?"
        )
    }

    deinit {
        sqlite3_finalize(insert)
        sqlite3_finalize(lookUp)
        sqlite3_close_v2(database)
    }

    func execute(_ sql: String) throws {
        guard sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else { throw SQLiteError(message: sql) }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(database, sql, -1, &statement, nil) == SQLITE_OK else {
            throw SQLiteError(message: sql)
        }
        return statement
    }

    /// Inserts one record (in its own transaction unless the caller opened one).
    func insert(_ record: TokenRecord) throws {
        defer { sqlite3_reset(insert) }
        let id = Array(record.id.description.utf8)
        let digest = record.digest.bytes
        sqlite3_bind_blob(insert, 1, id, Int32(id.count), transient)
        sqlite3_bind_blob(insert, 2, digest, 32, transient)
        sqlite3_bind_text(insert, 3, record.owner, -1, transient)
        sqlite3_bind_text(insert, 4, record.name, -1, transient)
        sqlite3_bind_double(insert, 5, record.createdAt.timeIntervalSince1970)
        if let expiresAt = record.expiresAt {
            sqlite3_bind_double(insert, 6, expiresAt.timeIntervalSince1970)
        } else {
            sqlite3_bind_null(insert, 6)
        }
        sqlite3_bind_text(insert, 7, record.scopes.sorted().joined(separator: " "), -1, transient)
        guard sqlite3_step(insert) == SQLITE_DONE else { throw SQLiteError(message: "insert") }
    }

    /// Looks a digest up, reading the columns a validation needs; returns whether it was found.
    func lookUp(_ digest: TokenDigest) -> Bool {
        defer { sqlite3_reset(lookUp) }
        let bytes = digest.bytes
        sqlite3_bind_blob(lookUp, 1, bytes, 32, transient)
        guard sqlite3_step(lookUp) == SQLITE_ROW else { return false }
        _ = sqlite3_column_text(lookUp, 0)
        _ = sqlite3_column_text(lookUp, 1)
        _ = sqlite3_column_double(lookUp, 3)
        return true
    }
}

struct SQLiteError: Error, CustomStringConvertible {
    let message: String
    var description: String { "SQLite failed: \(message)" }
}

/// SQLITE_TRANSIENT: SQLite copies bound values.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
