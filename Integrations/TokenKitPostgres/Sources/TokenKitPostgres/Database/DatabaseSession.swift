import Logging
import NIOCore
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
    /// The call is not cut short when the calling task is cancelled: a statement already sent
    /// runs to its end anyway (postgres-nio does not cancel one), so the caller learns how it
    /// ended — and `TokenManager.run()`'s last write of last-used times, made while its task is
    /// being cancelled at shutdown, still happens. The timeout bounds the wait: at the timeout
    /// the call closes the connection it leased, which fails the statement in flight and makes
    /// PostgreSQL roll back an open transaction, so a paused or unreachable server cannot hold a
    /// caller longer.
    ///
    /// - Throws: ``TokenKitError``: the error `body` throws, mapped, or a storage error for the
    ///   timeout or a failed connection.
    func withConnection<Result: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws(TokenKitError) -> Result {
        let lease = Lease()
        let client = self.client
        let timeout = self.timeout
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
                let answer = Answer(continuation)
                // Not a child task, so that the caller's cancellation does not reach the pool's
                // lease or the statements. It ends when its statements end; the caller waits for
                // it, or for the timeout, whichever comes first.
                let call = Task {
                    do {
                        var attempt = 1
                        while true {
                            do {
                                let result = try await client.withConnection { connection in
                                    // The pool may hand out a connection that has just closed
                                    // (a server restart, a terminated session) before it learns
                                    // of the close.
                                    guard !connection.isClosed else { throw ConnectionClosed() }
                                    try lease.begin(with: connection)
                                    // Ended before the pool gets the connection back, so that a
                                    // timeout can no longer close it under its next user.
                                    defer { lease.end() }
                                    return try await body(connection)
                                }
                                answer.give(.success(result))
                                return
                            } catch let error
                                where !lease.hasTimedOut && Self.isConnectionFailure(error)
                                && attempt < (error is ConnectionClosed ? 20 : 3)
                            {
                                // The connection failed before any COMMIT was sent (a failure
                                // during COMMIT is OutcomeUnknown, never retried), so PostgreSQL
                                // rolled back whatever the call did: try again on another. A
                                // connection found closed before anything was sent on it is
                                // retried more often: the pool may hold several that a server
                                // restart closed, and drops each as it learns of its close.
                                attempt += 1
                                // Gives the pool a moment to learn of closes. Sleeping throws only
                                // when the timeout has cancelled this task, and then the next
                                // lease fails at once: nothing is lost by ignoring it.
                                try? await Task.sleep(for: .milliseconds(1))
                            }
                        }
                    } catch {
                        answer.give(.failure(lease.hasTimedOut ? DatabaseTimeout(timeout: timeout) : error))
                    }
                }
                // At the timeout: close the connection the call holds (which fails its statement)
                // or cancel its wait for one, and answer the caller. postgres-nio leaves a statement
                // sent on a connection that has just closed waiting forever; the caller does not
                // wait for it.
                let loop = PostgresClient.defaultEventLoopGroup.any()
                let timer = loop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
                    lease.timeOut()
                    call.cancel()
                    answer.give(.failure(DatabaseTimeout(timeout: timeout)))
                }
                answer.onAnswer { timer.cancel() }
            }
        } catch {
            throw PostgresErrorMapping.map(error, during: operation)
        }
    }

    /// Runs a statement on `connection` and returns its rows, after checking that the connection
    /// is open: postgres-nio never answers a statement sent on a closed connection.
    func query(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> PostgresRowSequence {
        guard !connection.isClosed else { throw ConnectionClosed() }
        return try await connection.query(query, logger: logger)
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`), rolled back if it throws; tries it
    /// again from the start after a serialization failure or deadlock.
    ///
    /// - Throws: ``TokenKitError``; a storage error that says the outcome is unknown when the
    ///   connection fails or the timeout passes while the transaction runs or commits.
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
            } catch let error where error.underlyingError is DatabaseTimeout {
                // The connection was closed at some point of the transaction, maybe during COMMIT.
                throw PostgresErrorMapping.map(OutcomeUnknown(underlyingError: error), during: operation)
            }
        }
    }

    private func runTransaction<Result: Sendable>(
        on connection: PostgresConnection,
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await execute("BEGIN", on: connection)
        let result: Result
        do {
            result = try await body(connection)
        } catch {
            // A failed rollback means a broken connection, which PostgreSQL rolls back itself;
            // the error that matters is the body's.
            if !connection.isClosed { try? await execute("ROLLBACK", on: connection) }
            throw error
        }
        let tag: String
        do {
            guard !connection.isClosed else { throw ConnectionClosed() }
            tag = try await connection.query("COMMIT", logger: logger).get().metadata.command
        } catch let error as PSQLError where error.code == .server && error.serverInfo?[.severity] == "ERROR" {
            throw error  // PostgreSQL answered with an error: the transaction did not commit.
        } catch {
            // The connection failed, or the server ended the session (FATAL), after COMMIT was
            // sent: the transaction may have committed.
            throw OutcomeUnknown(underlyingError: error)
        }
        // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, and no error.
        guard tag == "COMMIT" else {
            throw TokenKitError(
                .storageFailure,
                "PostgreSQL rolled the transaction back (\(tag)) instead of committing it."
            )
        }
        return result
    }

    /// Runs a statement and reads all its rows: a statement's errors surface while its rows are
    /// read, so a statement whose rows go unread could fail unnoticed.
    func execute(_ query: PostgresQuery, on connection: PostgresConnection) async throws {
        for try await _ in try await self.query(query, on: connection) {}
    }

    /// Whether `error` says the connection failed (closed, reset, or ended by the server), as
    /// opposed to an answer from PostgreSQL.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        if error is ConnectionClosed { return true }
        guard let error = error as? PSQLError else { return false }
        if error.code == .serverClosedConnection || error.code == .connectionError { return true }
        // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now: the server ended
        // or refused the session.
        return error.code == .server && (error.serverInfo?[.sqlState]?.hasPrefix("57P") ?? false)
    }

    private func isRetryable(_ error: TokenKitError) -> Bool {
        guard let underlying = error.underlyingError, let state = PostgresErrorMapping.sqlState(of: underlying) else {
            return false
        }
        return PostgresErrorMapping.retryable.contains(state)
    }
}

/// The connection a call holds, so that its timeout can close it — that connection, and only
/// while the call holds it.
private final class Lease: Sendable {
    private enum State {
        case waiting
        case holding(PostgresConnection)
        case ended
        case timedOut
    }

    private let state = Mutex(State.waiting)

    /// The call got `connection`; throws if the timeout passed while it waited.
    func begin(with connection: PostgresConnection) throws {
        let timedOut = state.withLock { state in
            if case .timedOut = state { return true }
            state = .holding(connection)
            return false
        }
        if timedOut { throw CancellationError() }
    }

    /// Whether the timeout passed.
    var hasTimedOut: Bool {
        state.withLock { state in
            if case .timedOut = state { return true }
            return false
        }
    }

    /// The call is done with its connection.
    func end() {
        state.withLock { $0 = .ended }
    }

    /// The timeout passed: closes the connection the call holds, if it holds one.
    func timeOut() {
        state.withLock { state in
            if case .holding(let connection) = state {
                // Closing (without waiting) fails the statement in flight; the pool drops the
                // closed connection.
                _ = connection.close() as EventLoopFuture<Void>
            }
            state = .timedOut
        }
    }
}

/// The answer to a ``DatabaseSession/withConnection(_:_:)`` caller: the call's outcome or the
/// timeout, whichever comes first; the other is dropped.
private final class Answer<Result: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result, any Error>?
        var onAnswer: (@Sendable () -> Void)?
        var answered = false
    }

    private let state: Mutex<State>

    init(_ continuation: CheckedContinuation<Result, any Error>) {
        state = Mutex(State(continuation: continuation))
    }

    /// Answers the caller, unless it has its answer.
    func give(_ result: Swift.Result<Result, any Error>) {
        let (continuation, onAnswer) = state.withLock { state in
            defer {
                state.continuation = nil
                state.onAnswer = nil
                state.answered = true
            }
            return (state.continuation, state.onAnswer)
        }
        // Resumed outside the lock: the runtime takes locks of its own to resume.
        continuation?.resume(with: result)
        onAnswer?()
    }

    /// Runs `action` once the caller has its answer (at once if it has).
    func onAnswer(_ action: @escaping @Sendable () -> Void) {
        let answered = state.withLock { state in
            if !state.answered { state.onAnswer = action }
            return state.answered
        }
        if answered { action() }
    }
}

/// A statement not sent because its connection had closed.
struct ConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the connection to PostgreSQL is closed" }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating at `Int64.max`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
