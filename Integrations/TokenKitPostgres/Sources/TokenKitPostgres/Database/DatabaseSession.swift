import Logging
import PostgresNIO
import Synchronization
import TokenKit

/// How the store reaches PostgreSQL: a pooled connection at a time, every call bounded by a
/// timeout, every write in a transaction that is retried on a serialization failure or deadlock.
struct DatabaseSession: Sendable {
    /// The pool; the application runs it.
    let client: PostgresClient
    /// Where postgres-nio logs each statement (at trace level).
    let logger: Logger
    /// The most any call may wait for a connection and its answers.
    let timeout: Duration
    /// How often a transaction that fails with a serialization failure or deadlock is tried in all.
    let maximumAttempts = 5

    /// Runs `body` with a pooled connection, and fails it after ``timeout``.
    ///
    /// postgres-nio cancels a wait for a connection when the task is cancelled, but not a
    /// statement already sent. So at the timeout this closes the connection it leased: a paused or
    /// unreachable server cannot hold a caller longer than the timeout. PostgreSQL rolls back an
    /// open transaction of a closed connection.
    ///
    /// - Throws: ``TokenKitError``: the error `body` throws, mapped, or a storage error for the
    ///   timeout or a failed connection.
    func withConnection<Result: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws(TokenKitError) -> Result {
        let leased = LeasedConnection()
        let client = self.client
        let timeout = self.timeout
        do {
            return try await withThrowingTaskGroup(of: Outcome<Result>.self) { group in
                group.addTask {
                    let result = try await client.withConnection { connection in
                        leased.slot.withLock { $0 = connection }
                        defer { leased.slot.withLock { $0 = nil } }
                        return try await body(connection)
                    }
                    return .finished(result)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                }
                // The first child to finish decides; the other is cancelled.
                guard let first = try await group.next() else { throw DatabaseTimeout(timeout: timeout) }
                switch first {
                case .finished(let result):
                    group.cancelAll()
                    return result
                case .timedOut:
                    group.cancelAll()
                    if let connection = leased.slot.withLock({ $0 }) {
                        // Closing fails the statement in flight, so the call above returns; a close
                        // that fails leaves a connection that is closed anyway.
                        try? await connection.close()
                    }
                    throw DatabaseTimeout(timeout: timeout)
                }
            }
        } catch {
            throw PostgresErrorMapping.map(error, during: operation)
        }
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`), rolled back if it throws; tries it
    /// again from the start after a serialization failure or deadlock.
    ///
    /// - Throws: ``TokenKitError``; a storage error that says the outcome is unknown when the
    ///   connection fails during `COMMIT`.
    func transaction<Result: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws(TokenKitError) -> Result {
        var attempt = 1
        while true {
            do {
                return try await withConnection(operation) { connection in
                    try await runTransaction(on: connection, body)
                }
            } catch let error where attempt < maximumAttempts && isRetryable(error) {
                attempt += 1
            }
        }
    }

    private func runTransaction<Result: Sendable>(
        on connection: PostgresConnection,
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await connection.query("BEGIN", logger: logger)
        let result: Result
        do {
            result = try await body(connection)
        } catch {
            // A failed rollback means a broken connection, which PostgreSQL rolls back itself;
            // the error that matters is the body's.
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
        do {
            try await connection.query("COMMIT", logger: logger)
        } catch let error as PSQLError where error.code == .server {
            throw error  // PostgreSQL answered: the transaction did not commit.
        } catch {
            throw OutcomeUnknown(underlyingError: error)
        }
        return result
    }

    private func isRetryable(_ error: TokenKitError) -> Bool {
        guard let underlying = error.underlyingError, let state = PostgresErrorMapping.sqlState(of: underlying) else {
            return false
        }
        return PostgresErrorMapping.retryable.contains(state)
    }
}

/// How ``DatabaseSession/withConnection(_:_:)``'s race ended.
private enum Outcome<Result: Sendable>: Sendable {
    case finished(Result)
    case timedOut
}

/// The connection a call holds, for the timeout to close.
private final class LeasedConnection: Sendable {
    let slot = Mutex<PostgresConnection?>(nil)
}
