import PostgresNIO
import TokenKit

/// The names of the store's tables, index and channel in one PostgreSQL schema, and the
/// migrations that create them.
struct PostgresSchema: Sendable {
    /// The PostgreSQL schema, such as `public`.
    let name: String

    /// Checks `name`: lowercase letters, digits and `_`, starting with a letter or `_`, at most 40
    /// characters, so that it needs no quoting and the channel name stays under PostgreSQL's 63.
    init(_ name: String) throws(TokenKitError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_")
        guard (1...40).contains(name.count), name.allSatisfy(allowed.contains), name.first?.isNumber == false else {
            throw TokenKitError(
                .invalidConfiguration,
                "The PostgreSQL schema name \"\(name)\" is not allowed: use 1 to 40 lowercase letters, digits and _, starting with a letter or _."
            )
        }
        self.name = name
    }

    /// The records.
    var tokens: String { "\"\(name)\".tokenkit_tokens" }
    /// The hasher identity, one row.
    var metadata: String { "\"\(name)\".tokenkit_metadata" }
    /// The migrations applied, one row each.
    var migrations: String { "\"\(name)\".tokenkit_migrations" }
    /// The `LISTEN`/`NOTIFY` channel of every instance on this schema.
    var channel: String { "tokenkit_\(name)" }

    /// The key of the advisory lock that serializes migrations of this schema.
    var migrationLockKey: String { "tokenkit.migrations.\(name)" }

    /// A migration: a version and the statements that take the schema to it, one per query.
    struct Migration: Sendable {
        let version: Int32
        let description: String
        let statements: [String]
    }

    /// Every migration, oldest first. Never change one that has shipped: add the next.
    var migrationList: [Migration] {
        [
            Migration(
                version: 1,
                description: "tokens, metadata",
                statements: [
                    """
                    CREATE TABLE \(tokens) (
                        id               text COLLATE "C" PRIMARY KEY,
                        owner            text        NOT NULL,
                        name             text        NOT NULL,
                        created_at       timestamptz NOT NULL,
                        expires_at       timestamptz,
                        scopes           text[]      NOT NULL,
                        allowed_networks text[]      NOT NULL,
                        last_used_at     timestamptz,
                        revoked_at       timestamptz,
                        disabled_at      timestamptz,
                        digest           bytea       NOT NULL,
                        lineage_id       text COLLATE "C" NOT NULL,
                        CONSTRAINT tokenkit_tokens_digest_key UNIQUE (digest),
                        CONSTRAINT tokenkit_tokens_digest_length CHECK (octet_length(digest) = 32)
                    )
                    """,
                    // Name uniqueness: at most one record per owner and name holds the name.
                    "CREATE UNIQUE INDEX tokenkit_tokens_owner_name_key ON \(tokens) (owner, name) WHERE revoked_at IS NULL",
                    "CREATE INDEX tokenkit_tokens_owner ON \(tokens) (owner, created_at, id)",
                    "CREATE INDEX tokenkit_tokens_lineage ON \(tokens) (owner, lineage_id)",
                    "CREATE INDEX tokenkit_tokens_expires_at ON \(tokens) (expires_at) WHERE expires_at IS NOT NULL",
                    """
                    CREATE TABLE \(metadata) (
                        id               integer PRIMARY KEY CHECK (id = 1),
                        hasher_algorithm text NOT NULL,
                        key_fingerprint  text NOT NULL
                    )
                    """,
                ]
            )
        ]
    }

    /// The newest schema version this code knows.
    var latestVersion: Int32 { migrationList.last?.version ?? 0 }

    /// The constraints whose violation means a repeated id or digest.
    static let duplicateTokenConstraints: Set<String> = ["tokenkit_tokens_pkey", "tokenkit_tokens_digest_key"]
    /// The index whose violation means a repeated name.
    static let duplicateNameConstraint = "tokenkit_tokens_owner_name_key"
}
