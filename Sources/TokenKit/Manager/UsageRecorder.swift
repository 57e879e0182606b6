import Foundation
import Synchronization

/// Records tokens' last-used times without a write per validation.
///
/// A use is noted at most once per token per interval; noted uses are written to the store in one
/// batch by a background task, so a validation never waits for a write. ``flush()`` writes what is
/// pending, for shutdown.
final class UsageRecorder: Sendable {
    private struct State {
        /// Uses not yet written.
        var pending: [TokenID: Date] = [:]
        /// The last use noted per token, to throttle tokens whose stored time is stale.
        var lastNoted: [TokenID: Date] = [:]
        /// Whether a background flush is on its way.
        var flushScheduled = false
        /// When `lastNoted` was last pruned of entries older than an interval.
        var lastPruned = Date.distantPast
    }

    private let state = Mutex(State())
    private let interval: TimeInterval
    private let store: any TokenStore

    init(store: any TokenStore, interval: Duration) {
        self.store = store
        self.interval = max(0, interval.timeInterval)
    }

    /// Notes that `record` was used at `date`; starts a background write when one is due.
    func noteUse(of record: TokenRecord, at date: Date) {
        // The common case: the stored time is recent, so there is nothing to do and no lock to take.
        if let lastUsed = record.lastUsedAt, date.timeIntervalSince(lastUsed) < interval { return }
        let startFlush = state.withLock { state -> Bool in
            if let noted = state.lastNoted[record.id], date.timeIntervalSince(noted) < interval { return false }
            state.lastNoted[record.id] = date
            state.pending[record.id] = date
            guard !state.flushScheduled else { return false }
            state.flushScheduled = true
            return true
        }
        if startFlush {
            Task { try? await self.flush() }
        }
    }

    /// Writes every pending use now.
    func flush() async throws {
        let batch = state.withLock { state in
            state.flushScheduled = false
            defer { state.pending = [:] }
            return state.pending
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.recordUse(batch)
        } catch {
            // Keep the uses for the next flush; a newer use of the same token wins.
            state.withLock { state in
                state.pending.merge(batch) { newer, _ in newer }
            }
            throw error
        }
        // Entries older than an interval no longer throttle anything. Pruning at most once an
        // interval keeps the cost linear in the uses noted, with a million tokens in use too.
        state.withLock { state in
            guard let newest = batch.values.max(), newest.timeIntervalSince(state.lastPruned) >= interval else {
                return
            }
            state.lastNoted = state.lastNoted.filter { newest.timeIntervalSince($0.value) < interval }
            state.lastPruned = newest
        }
    }
}
