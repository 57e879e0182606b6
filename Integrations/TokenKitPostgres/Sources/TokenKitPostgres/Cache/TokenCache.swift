import Synchronization
import TokenKit

/// The records this instance has validated recently, and how fresh they are.
///
/// The cache holds records found by digest, up to a capacity, and forgets the oldest first. It
/// never holds an absence: a digest it does not hold is looked up in the database. The change feed
/// keeps it fresh — it forgets every record a notification names, forgets everything when the
/// feed (re)connects, and moves ``State/freshUntil`` forward as its heartbeats come back.
///
/// A record looked up in the database is kept only if nothing was forgotten while the look-up
/// ran (the ``State/epoch`` is unchanged): a notification that crossed the look-up might concern
/// it, and keeping the older answer would serve a revoked token.
final class TokenCache: Sendable {
    /// What a look-up found.
    enum Lookup {
        /// The record, fresh within the bound.
        case hit(TokenRecord)
        /// Nothing for the digest; look it up in the database and offer the answer to
        /// ``fill(_:epoch:)`` with this epoch.
        case miss(epoch: UInt64)
        /// The cache may be stale: ask the database, and keep nothing.
        case stale
    }

    /// The cache's state, behind one lock.
    struct State {
        /// The records, by digest.
        var records: [TokenDigest: TokenRecord] = [:]
        /// Digests in the order they were kept, growing up to the capacity; then the oldest is
        /// forgotten first.
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
            if let record = state.records[digest] { return .hit(record) }
            return .miss(epoch: state.epoch)
        }
    }

    /// Keeps `record`, looked up in the database after a ``Lookup/miss(epoch:)`` with `epoch`,
    /// unless something was forgotten meanwhile.
    func fill(_ record: TokenRecord, epoch: UInt64) {
        guard capacity > 0 else { return }
        state.withLock { state in
            guard state.epoch == epoch, state.records[record.digest] == nil else { return }
            if state.order.count < capacity {
                state.order.append(record.digest)
            } else {
                state.records[state.order[state.next]] = nil
                state.order[state.next] = record.digest
                state.next = (state.next + 1) % capacity
            }
            state.records[record.digest] = record
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

    /// How many records are kept.
    var count: Int { state.withLock { $0.records.count } }

    /// Whether records are served as of `now`.
    func isFresh(at now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in state.freshUntil.map { now < $0 } ?? false }
    }
}
