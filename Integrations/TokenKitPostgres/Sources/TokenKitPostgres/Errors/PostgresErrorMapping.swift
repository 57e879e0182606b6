import PostgresNIO
import TokenKit

/// Turns what postgres-nio throws into ``TokenKitError``s with the most precise storage code.
///
/// Messages name the operation and PostgreSQL's own message and SQLSTATE, never a bound value:
/// postgres-nio's full error (`underlyingError`) holds the statement and its binds, for debugging.
enum PostgresErrorMapping {
    /// SQLSTATE `23505`.
    static let uniqueViolation = "23505"
    /// SQLSTATEs after which the whole transaction is retried: serialization failure, deadlock.
    static let retryable: Set<String> = ["40001", "40P01"]

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The constraint a server error names, if any.
    static func constraint(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.constraintName]
    }

    /// `error` as a ``TokenKitError``: itself if it is one, otherwise a storage error.
    ///
    /// - Parameters:
    ///   - error: What was thrown.
    ///   - operation: What the store was doing, such as "revoking a token".
    static func map(_ error: any Error, during operation: String) -> TokenKitError {
        if let error = error as? TokenKitError { return error }
        if let error = error as? DatabaseTimeout {
            return TokenKitError(
                .storageFailure,
                "PostgreSQL did not answer within \(error.timeout) while \(operation); check that the server runs and is reachable.",
                underlyingError: error
            )
        }
        if let error = error as? OutcomeUnknown {
            return TokenKitError(
                .storageFailure,
                "The connection to PostgreSQL was lost while committing \(operation): the change may or may not have been made. Look the token up before trying again.",
                underlyingError: error.underlyingError
            )
        }
        guard let psql = error as? PSQLError else {
            return TokenKitError(
                .storageFailure,
                "PostgreSQL could not be reached while \(operation); check that the server runs and is reachable.",
                underlyingError: error
            )
        }
        guard psql.code == .server, let state = psql.serverInfo?[.sqlState] else {
            return TokenKitError(
                .storageFailure,
                "The connection to PostgreSQL failed while \(operation); check that the server runs and is reachable.",
                underlyingError: error
            )
        }
        let message = psql.serverInfo?[.message] ?? "no message"
        let detail = "PostgreSQL refused \(operation): \(message) (SQLSTATE \(state))."
        switch state {
        case "53100":
            return TokenKitError(
                .storageFull,
                detail + " Free disk space on the database server.",
                underlyingError: error
            )
        case "25006":
            return TokenKitError(
                .readOnlyStorage,
                detail + " The server is read-only (a standby?): connect to the primary.",
                underlyingError: error
            )
        case "42501":
            return TokenKitError(
                .permissionDenied,
                detail + " Grant the database user access to TokenKit's tables.",
                underlyingError: error
            )
        case "42P01", "3F000":
            return TokenKitError(
                .storageFailure,
                detail + " TokenKit's tables are missing: call PostgresTokenStore.migrate() first.",
                underlyingError: error
            )
        default:
            return TokenKitError(.storageFailure, detail, underlyingError: error)
        }
    }
}

/// A database call that got no answer within the store's ``PostgresTokenStore/Configuration/queryTimeout``.
struct DatabaseTimeout: Error, CustomStringConvertible {
    /// The time allowed.
    let timeout: Duration

    var description: String { "no answer from PostgreSQL within \(timeout)" }
}

/// A `COMMIT` whose connection failed before PostgreSQL answered: the transaction may have
/// committed or not.
struct OutcomeUnknown: Error {
    /// The connection's error.
    let underlyingError: any Error
}
