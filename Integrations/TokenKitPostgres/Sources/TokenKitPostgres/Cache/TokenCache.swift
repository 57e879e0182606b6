import Synchronization
import TokenKit

/// The records this instance has validated recently, and how fresh they are.
///
/// The cache holds what look-ups by digest found — a record, or that there is none — up to a
/// capacity, and forgets the oldest first. Absences are kept too, so that a flood of unknown
/// tokens costs one database query per token, not one per request; every insert announces its
/// digest, which forgets an absence kept anywhere. The change feed
/// keeps it fresh — it forgets every record a notification names, forgets everything when the
/// feed (re)connects, and moves ``State/freshUntil`` forward as its heartbeats come back.
///
/// A record looked up in the database is kept only if nothing was forgotten while the look-up
/// ran (the ``State/epoch`` is unchanged): a notification that crossed the look-up might concern
/// it, and keeping the older answer would serve a revoked token.
final class TokenCache: Sendable {
    /// What a look-up found.
    enum Lookup {
        /// The record (`nil`: there is none), fresh within the bound.
        case hit(TokenRecord?)
        /// Nothing for the digest; look it up in the database and offer the answer to
        /// ``fill(_:_:epoch:)`` with this epoch.
        case miss(epoch: UInt64)
        /// The cache may be stale: ask the database, and keep nothing.
        case stale
    }

    /// The cache's state, behind one lock.
    struct State {
        /// The records, by digest, each with the slot of ``order`` that holds its digest.
        var records: [TokenDigest: (record: TokenRecord?, slot: Int)] = [:]
        /// Digests in the order they were kept, growing up to the capacity; then each new record
        /// takes the oldest slot, forgetting the record in it. A slot whose record was forgotten
        /// meanwhile (or kept again in a newer slot) holds nobody and is simply reused.
        var order: [TokenDigest] = []
        /// Where the next kept digest goes in ``order``.
        var next = 0
        /// Counts every forgetting; a look-up's answer is kept only if it did not change meanwhile.
        var epoch: UInt64 = 0
        /// Until when the records reflect every change committed in the database, give or take
        /// nothing: a heartbeat sent at `t` came back, so every change committed before `t` was
        /// applied, and the bound allows serving until `t + maximumStaleness`.
        var freshUntil: ContinuousClock.Instant?
    }

    /// The most records kept; 0 turns caching off.
    let capacity: Int
    private let state: Mutex<State>

    /// An empty cache, stale until the feed's first heartbeat comes back.
    init(capacity: Int) {
        self.capacity = capacity
        state = Mutex(State())
    }

    /// Looks `digest` up as of `now`.
    func lookup(_ digest: TokenDigest, now: ContinuousClock.Instant) -> Lookup {
        state.withLock { state in
            guard let freshUntil = state.freshUntil, now < freshUntil else { return .stale }
            if let entry = state.records[digest] { return .hit(entry.record) }
            return .miss(epoch: state.epoch)
        }
    }

    /// Keeps what the database said about `digest` (`record`, or `nil` for no record), looked up
    /// after a ``Lookup/miss(epoch:)`` with `epoch`, unless something was forgotten meanwhile.
    func fill(_ digest: TokenDigest, _ record: TokenRecord?, epoch: UInt64) {
        guard capacity > 0 else { return }
        state.withLock { state in
            guard state.epoch == epoch, state.records[digest] == nil else { return }
            let slot: Int
            if state.order.count < capacity {
                slot = state.order.count
                state.order.append(digest)
            } else {
                slot = state.next
                let oldest = state.order[slot]
                if state.records[oldest]?.slot == slot { state.records[oldest] = nil }
                state.order[slot] = digest
                state.next = (state.next + 1) % capacity
            }
            state.records[digest] = (record, slot)
        }
    }

    /// Forgets the records with these digests: they changed.
    func forget(_ digests: [TokenDigest]) {
        if digests.isEmpty { return }
        state.withLock { state in
            state.epoch &+= 1
            for digest in digests {
                state.records[digest] = nil
            }
        }
    }

    /// Forgets every record: the feed (re)connected, or a change touched too many records to name.
    func forgetAll() {
        state.withLock { state in
            state.epoch &+= 1
            state.records.removeAll(keepingCapacity: true)
            state.order.removeAll()
            state.next = 0
        }
    }

    /// Serves records until `instant`, unless a later heartbeat already allowed longer.
    func confirmFresh(until instant: ContinuousClock.Instant) {
        state.withLock { state in
            if let current = state.freshUntil, current >= instant { return }
            state.freshUntil = instant
        }
    }

    /// Stops serving records at once: the feed is down and the staleness bound must not be
    /// stretched (used when the feed stops for good).
    func markStale() {
        state.withLock { $0.freshUntil = nil }
    }

    /// How many look-ups are kept (records and absences).
    var count: Int { state.withLock { $0.records.count } }

    /// Whether records are served as of `now`.
    func isFresh(at now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in state.freshUntil.map { now < $0 } ?? false }
    }
}
