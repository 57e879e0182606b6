import Foundation
import Synchronization

/// Records tokens' last-used times without a write per validation.
///
/// A use is noted at most once per token per interval; noted uses are written to the store in
/// batches by ``flush()``, which ``TokenManager/run()`` calls on the interval. One flush runs at a
/// time: a flush that finds another under way waits for it, then writes what is left, so
/// ``flush()`` returns only once every use noted before it is written (or has failed).
final class UsageRecorder: Sendable {
    private struct State {
        /// Uses not yet written.
        var pending: [TokenID: Date] = [:]
        /// The last use noted per token, to throttle tokens whose stored time is stale.
        var lastNoted: [TokenID: Date] = [:]
        /// When `lastNoted` was last pruned of entries older than an interval.
        var lastPruned = Date.distantPast
        /// Whether a flush holds the right to write.
        var flushing = false
        /// Flushes waiting for that right, first come first served.
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let interval: TimeInterval
    private let store: any TokenStore

    init(store: any TokenStore, interval: Duration) {
        self.store = store
        self.interval = max(0, interval.timeInterval)
    }

    /// The number of uses noted and not yet written.
    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Notes that `record` was used at `date`.
    ///
    /// - Returns: Whether a use was noted while no flush is under way, so that one should be
    ///   started (pending uses left by a failed write included).
    func noteUse(of record: TokenRecord, at date: Date) -> Bool {
        // The common case: the stored time is recent, so there is nothing to do and no lock to take.
        if let lastUsed = record.lastUsedAt, date.timeIntervalSince(lastUsed) < interval { return false }
        return state.withLock { state -> Bool in
            if let noted = state.lastNoted[record.id], date.timeIntervalSince(noted) < interval { return false }
            state.lastNoted[record.id] = date
            state.pending[record.id] = date
            return !state.flushing
        }
    }

    /// Writes every pending use, waiting first for a flush under way.
    ///
    /// - Throws: What the store throws; the uses stay pending for the next flush.
    func flush() async throws {
        await acquire()
        try await writeUntilEmpty()
    }

    /// Writes every pending use unless a flush is under way (which writes them instead).
    func flushUnlessBusy() async throws {
        let acquired = state.withLock { state in
            defer { state.flushing = true }
            return !state.flushing
        }
        guard acquired else { return }
        try await writeUntilEmpty()
    }

    /// Writes batches until none is pending, then gives up the right to write. Holds that right.
    private func writeUntilEmpty() async throws {
        while let batch = takeBatchOrRelease() {
            do {
                try await store.recordUse(batch)
            } catch {
                // Keep the uses for the next flush; a newer use of the same token wins.
                state.withLock { state in
                    state.pending.merge(batch) { newer, _ in newer }
                }
                release()
                throw error
            }
            prune(after: batch)
        }
    }

    /// Takes the pending uses; when there are none, gives up the right to write in the same step,
    /// so that a use noted afterwards finds no flush under way and starts one.
    private func takeBatchOrRelease() -> [TokenID: Date]? {
        let (batch, next) = state.withLock { state -> ([TokenID: Date]?, CheckedContinuation<Void, Never>?) in
            if !state.pending.isEmpty {
                defer { state.pending = [:] }
                return (state.pending, nil)
            }
            return (nil, handOver(&state))
        }
        next?.resume()
        return batch
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state in
                if !state.flushing {
                    state.flushing = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        state.withLock { handOver(&$0) }?.resume()
    }

    /// Passes the right to write to the first waiter (returned, to be resumed outside the lock), or
    /// gives it up.
    private func handOver(_ state: inout State) -> CheckedContinuation<Void, Never>? {
        guard !state.waiters.isEmpty else {
            state.flushing = false
            return nil
        }
        return state.waiters.removeFirst()
    }

    /// Entries older than an interval no longer throttle anything. Pruning at most once an interval
    /// keeps the cost linear in the uses noted, with a million tokens in use too.
    private func prune(after batch: [TokenID: Date]) {
        state.withLock { state in
            guard let newest = batch.values.max(), newest.timeIntervalSince(state.lastPruned) >= interval else {
                return
            }
            state.lastNoted = state.lastNoted.filter { newest.timeIntervalSince($0.value) < interval }
            state.lastPruned = newest
        }
    }
}
