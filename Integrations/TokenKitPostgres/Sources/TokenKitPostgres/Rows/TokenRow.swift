import Foundation
import PostgresNIO
import TokenKit

/// How a ``TokenRecord`` maps to a row of `tokenkit_tokens`: the column list every statement
/// selects or returns, the bindings of an insert, and the decoding of a row.
enum TokenRow {
    /// The record's columns, in the order ``record(from:)`` decodes them. Every statement that
    /// returns records selects or returns exactly these, optionally followed by more columns.
    static let columns =
        "id, owner, name, created_at, expires_at, scopes, allowed_networks, last_used_at, revoked_at, disabled_at, digest, lineage_id"

    /// The same columns qualified with the table alias `t`, for statements that join.
    static let aliasedColumns = columns.split(separator: ",").map { "t." + $0.trimmingCharacters(in: .whitespaces) }
        .joined(separator: ", ")

    /// The twelve values of an insert, in ``columns`` order, for `VALUES ($1 … $12)`.
    static func bindings(of record: TokenRecord) throws(TokenKitError) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 12)
        bindings.append(record.id.description)
        bindings.append(record.owner)
        bindings.append(record.name)
        bindings.append(try PostgresTimestamp(record.createdAt))
        bindings.append(try record.expiresAt.map { date throws(TokenKitError) in try PostgresTimestamp(date) })
        bindings.append(record.scopes.sorted())
        bindings.append(record.allowedNetworks.map(\.description))
        bindings.append(try record.lastUsedAt.map { date throws(TokenKitError) in try PostgresTimestamp(date) })
        bindings.append(try record.revokedAt.map { date throws(TokenKitError) in try PostgresTimestamp(date) })
        bindings.append(try record.disabledAt.map { date throws(TokenKitError) in try PostgresTimestamp(date) })
        bindings.append(ByteBuffer(bytes: record.digest.bytes))
        bindings.append(record.lineageID.description)
        return bindings
    }

    /// The record in `row`, whose first columns are ``columns``.
    ///
    /// - Throws: ``TokenKitError/Code/storeCorrupted`` for a row TokenKit cannot have written (a
    ///   malformed id, digest or network, a date outside the storable range), which someone
    ///   changed by hand.
    static func record(from row: PostgresRow) throws(TokenKitError) -> TokenRecord {
        let id: String
        let owner: String
        let name: String
        let createdAt: PostgresTimestamp
        let expiresAt: PostgresTimestamp?
        let scopes: [String]
        let networks: [String]
        let lastUsedAt: PostgresTimestamp?
        let revokedAt: PostgresTimestamp?
        let disabledAt: PostgresTimestamp?
        let digest: ByteBuffer
        let lineage: String
        do {
            (
                id, owner, name, createdAt, expiresAt, scopes, networks, lastUsedAt, revokedAt, disabledAt, digest,
                lineage
            ) =
                try row.decode(
                    (
                        String, String, String, PostgresTimestamp, PostgresTimestamp?, [String], [String],
                        PostgresTimestamp?, PostgresTimestamp?, PostgresTimestamp?, ByteBuffer, String
                    ).self
                )
        } catch {
            throw corrupted("a column does not decode", underlyingError: error)
        }
        guard let tokenID = TokenID(id), let lineageID = TokenID(lineage) else {
            throw corrupted("an id is not 32 lowercase hex digits")
        }
        guard let tokenDigest = TokenDigest(bytes: digest.readableBytesView) else {
            throw corrupted("the digest of \(id) is not 32 bytes")
        }
        do {
            return TokenRecord(
                id: tokenID,
                owner: owner,
                name: name,
                createdAt: try createdAt.date,
                expiresAt: try expiresAt?.date,
                scopes: Set(scopes),
                allowedNetworks: try networks.map { text throws(TokenKitError) in try IPNetwork(parsing: text) },
                lastUsedAt: try lastUsedAt?.date,
                revokedAt: try revokedAt?.date,
                disabledAt: try disabledAt?.date,
                digest: tokenDigest,
                lineageID: lineageID
            )
        } catch {
            throw corrupted(
                "record \(id) holds a value TokenKit does not write (\(error.message))",
                underlyingError: error
            )
        }
    }

    private static func corrupted(_ detail: String, underlyingError: (any Error)? = nil) -> TokenKitError {
        TokenKitError(
            .storeCorrupted,
            "A row of tokenkit_tokens was not written by TokenKit: \(detail). Restore the row from a backup or delete it.",
            underlyingError: underlyingError
        )
    }
}
