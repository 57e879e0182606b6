import Logging
import NIOCore
import PostgresNIO
import Synchronization
import TokenKit

/// Keeps a ``TokenCache`` fresh: listens on the store's channel with one pooled connection,
/// forgets what each notification names, and proves its own freshness with heartbeats.
///
/// ## Why heartbeats prove freshness
///
/// PostgreSQL delivers the notifications of one channel to a listener in commit order. The feed
/// sends a heartbeat (`pg_notify` on the same channel, naming this instance) at a time `t`; when it
/// comes back, every change committed before `t` has been delivered ahead of it and applied. So the
/// cache may serve until `t + maximumStaleness`, and no longer: when the feed stalls — a lost
/// connection, a paused server, a half-open socket — heartbeats stop coming back, and within the
/// bound every validation goes to the database.
///
/// ## Reconnecting
///
/// When the connection fails, the feed tries again after a short, growing pause. Whatever changed
/// while it was not listening is unknown, so on every (re)connect it forgets the whole cache once
/// `LISTEN` is in place: the full resync. A watchdog closes a connection whose heartbeats stop
/// coming back, so a half-open socket cannot hold the feed.
final class ChangeFeed: Sendable {
    /// The connection pool and logger.
    let session: DatabaseSession
    /// The channel every instance of this schema listens and notifies on.
    let channel: String
    /// What the feed keeps fresh.
    let cache: TokenCache
    /// How long a heartbeat's proof lasts.
    let maximumStaleness: Duration
    /// This process's name in heartbeats, so it ignores the others'.
    let instance: String
    /// Heartbeats sent and not yet back, by sequence number.
    private let state = Mutex(State())

    private struct State {
        var nextSequence: UInt64 = 0
        var pending: [UInt64: ContinuousClock.Instant] = [:]
        var lastEcho: ContinuousClock.Instant?
    }

    /// A feed for `cache`; ``run()`` starts it.
    init(session: DatabaseSession, channel: String, cache: TokenCache, maximumStaleness: Duration) {
        self.session = session
        self.channel = channel
        self.cache = cache
        self.maximumStaleness = maximumStaleness
        self.instance = TokenID.random().description
    }

    /// How often a heartbeat is sent: four per bound, between 5 ms and 1 s apart.
    var heartbeatInterval: Duration {
        min(max(maximumStaleness / 4, .milliseconds(5)), .seconds(1))
    }

    /// How long heartbeats may stay away before the watchdog drops the connection.
    var stallLimit: Duration {
        max(maximumStaleness * 2, session.timeout)
    }

    /// Listens until the task is cancelled, reconnecting after failures.
    func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await listen()
                failures = 0
            } catch {
                if Task.isCancelled { break }
                failures += 1
                session.logger.warning(
                    "TokenKit's PostgreSQL change feed lost its connection; validations use the database until it is back.",
                    metadata: [
                        "tokenkit.error": "\(PostgresErrorMapping.map(error, during: "listening for changes").message)",
                        "tokenkit.attempt": "\(failures)",
                    ]
                )
                // 50 ms, 100 ms, … up to 2 s between attempts. A cancelled sleep ends the loop.
                let pause = Duration.milliseconds(50) * (1 << min(failures - 1, 6))
                do { try await Task.sleep(for: min(pause, .seconds(2))) } catch { break }
            }
        }
        // Stopped for good: nothing keeps the cache fresh any more.
        cache.markStale()
    }

    /// One connection's life: `LISTEN`, forget everything, then apply notifications while
    /// heartbeats and the watchdog run beside.
    private func listen() async throws {
        try await session.client.withConnection { [self] connection in
            try await connection.listen(on: channel) { notifications in
                cache.forgetAll()
                let start = ContinuousClock.now
                state.withLock { state in
                    state.pending.removeAll()
                    state.lastEcho = start
                }
                // postgres-nio does not cancel a statement in flight: on cancellation (shutdown)
                // the connection is closed, so that a heartbeat stuck on a stalled server cannot
                // hold the shutdown.
                try await withTaskCancellationHandler {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { [self] in
                            for try await notification in notifications {
                                apply(notification.payload)
                            }
                        }
                        group.addTask { [self] in try await sendHeartbeats(on: connection) }
                        group.addTask { [self] in try await watch(connection) }
                        // The first to end ends the others: a failure, or cancellation (shutdown).
                        _ = try await group.next()
                        group.cancelAll()
                    }
                } onCancel: {
                    _ = connection.close() as EventLoopFuture<Void>
                }
            }
        }
    }

    /// Applies one notification, in delivery order.
    func apply(_ payload: String) {
        switch ChangeMessage(payload: payload) {
        case .forget(let digests):
            cache.forget(digests)
        case .forgetAll:
            cache.forgetAll()
        case .heartbeat(let from, let sequence):
            guard from == instance else { return }
            let now = ContinuousClock.now
            let sentAt: ContinuousClock.Instant? = state.withLock { state in
                let sentAt = state.pending[sequence]
                state.pending = state.pending.filter { $0.key > sequence }
                if sentAt != nil { state.lastEcho = now }
                return sentAt
            }
            if let sentAt { cache.confirmFresh(until: sentAt + maximumStaleness) }
        case nil:
            // Text no TokenKit instance sends (a newer version's message?): the safe reading is
            // that anything may have changed.
            cache.forgetAll()
        }
    }

    private func sendHeartbeats(on connection: PostgresConnection) async throws {
        while true {
            let sequence = state.withLock { state in
                state.nextSequence += 1
                state.pending[state.nextSequence] = ContinuousClock.now
                return state.nextSequence
            }
            let payload = ChangeMessage.heartbeat(instance: instance, sequence: sequence).payload
            try await session.execute("SELECT pg_notify(\(channel), \(payload))", on: connection)
            try await Task.sleep(for: heartbeatInterval)
        }
    }

    /// Closes the connection when heartbeats stop coming back, which fails the listener and so
    /// starts a reconnect.
    private func watch(_ connection: PostgresConnection) async throws {
        while true {
            try await Task.sleep(for: heartbeatInterval)
            let lastEcho = state.withLock { $0.lastEcho } ?? .now
            if ContinuousClock.now - lastEcho > stallLimit {
                // The connection is being abandoned; a failed close leaves it unusable all the same.
                try? await connection.close()
                throw DatabaseTimeout(timeout: stallLimit)
            }
        }
    }
}
