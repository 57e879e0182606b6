import Dispatch
import Synchronization

extension FileTokenStore {
    /// One mutating call waiting to be committed.
    struct PendingWrite: Sendable {
        /// The records the plan needs in memory.
        let needed: RecordsNeeded
        /// Plans the write against the index (with the writes before it in the same group applied)
        /// and returns the entries to log, and how to answer the caller once they are durable.
        let plan: @Sendable (TokenIndex) throws -> (entries: [LogEntry], answer: @Sendable () -> Void)
        /// Answers the caller with a failure.
        let fail: @Sendable (any Error) -> Void
    }

    /// What waits for the thread that drains the write queue.
    enum QueuedWork: Sendable {
        case write(PendingWrite)
        /// A call of ``FileTokenStore/compact()``, answered with the compaction's outcome.
        case compaction(@Sendable (Result<Void, TokenKitError>) -> Void)
    }

    /// The writes and compactions waiting, in arrival order; whether a thread is draining them; and
    /// how long the last sync took.
    ///
    /// Only the thread draining the queue takes the writers' lock: `flock` excludes other
    /// processes, not other threads of this one (they share the lock file's descriptor).
    struct WriteQueue {
        var waiting: [QueuedWork] = []
        /// Set while a thread drains the queue: the writer queue, or a caller that found the store
        /// idle and commits its own write.
        var draining = false
        /// How long the last commit's write and sync took; `nil` before the first, and after a
        /// failed one.
        var lastSync: Duration?
        /// How many writes their callers' threads committed, or tried to (for tests).
        var callingThreadCommits = 0

        /// What a caller does with its write.
        enum Turn {
            /// Another thread is draining the queue and will take the write with its next group.
            case queued
            /// The store was idle: the caller commits the write itself (it was not queued).
            case commitHere
            /// The store was idle: the caller starts the writer queue.
            case startWriterQueue
        }

        /// Queues `write`, or keeps it out of the queue for its caller to commit itself when the
        /// store is idle, the write may be committed there, and the last sync was quick.
        mutating func take(_ write: PendingWrite, mayCommitHere: Bool) -> Turn {
            if !draining, mayCommitHere, let lastSync, lastSync <= FileTokenStore.callingThreadSyncLimit {
                draining = true
                return .commitHere
            }
            return enqueue(.write(write)) ? .startWriterQueue : .queued
        }

        /// Queues `work`; returns whether the caller starts the writer queue.
        mutating func enqueue(_ work: QueuedWork) -> Bool {
            waiting.append(work)
            defer { draining = true }
            return !draining
        }

        /// Takes everything waiting; when nothing is, stops draining.
        mutating func takeAll() -> [QueuedWork] {
            defer { waiting.removeAll() }
            if waiting.isEmpty { draining = false }
            return waiting
        }
    }

    /// A commit whose last sync took at most this long may run on its caller's thread.
    static let callingThreadSyncLimit = Duration.milliseconds(1)

    /// A write that reads more records by id than this goes to the writer queue (a batch of
    /// last-used times does).
    static let callingThreadRecordLimit = 16

    /// Queues a write and waits until it is on stable storage (or has failed). `needed` names the
    /// records `plan` looks up or lists (beyond those it writes), for a store that reads its
    /// snapshot from an index file.
    ///
    /// A write that finds the store idle is committed on the calling thread, without the two
    /// thread hand-offs of the writer queue (on a 2-vCPU VM they cost one writer about an eighth
    /// of its rate), when that blocks the thread briefly: see
    /// ``mayCommitOnCallingThread(needing:)`` and ``hasLittleToRead(needing:)``. Writes that
    /// arrive meanwhile wait without blocking a thread and are committed by the writer queue,
    /// which also runs compactions.
    func commit<Answer: Sendable>(
        needing needed: RecordsNeeded = .none,
        _ plan: @escaping @Sendable (TokenIndex) throws -> IndexPlan<Answer>
    ) async throws -> Answer {
        guard options.access == .readWrite else { throw readOnlyError() }
        let mayCommitHere = mayCommitOnCallingThread(needing: needed)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Answer, any Error>) in
            let write = PendingWrite(
                needed: needed,
                plan: { index in
                    let planned = try plan(index)
                    let answer = planned.answer
                    return (planned.entries, { continuation.resume(returning: answer) })
                },
                fail: { continuation.resume(throwing: $0) }
            )
            // Resumed before this closure returns, the continuation does not suspend the task.
            switch queue.withLock({ $0.take(write, mayCommitHere: mayCommitHere) }) {
            case .queued: break
            case .commitHere: commitHere(write)
            case .startWriterQueue: writerQueue.async { self.drain() }
            }
        }
    }

    /// Whether a write needing `needed` may be committed on its caller's thread, if the store is
    /// idle and its last sync was quick: the task runs on Swift's global executor, and the write
    /// reads at most ``callingThreadRecordLimit`` records by id, or one owner's (not every record, nor
    /// what a purge found: its plan checks every record in memory).
    ///
    /// A task that prefers an executor of its own (such as an event loop, with
    /// `withTaskExecutorPreference`) runs this nonisolated async code there, and must not be
    /// blocked. (A task started with `Task.immediate` runs on its starting thread until it first
    /// suspends, as it would for any other work.)
    private func mayCommitOnCallingThread(needing needed: RecordsNeeded) -> Bool {
        switch needed {
        case .none, .digest, .owner: break
        case .ids(let ids, _): guard ids.count <= Self.callingThreadRecordLimit else { return false }
        case .found, .all: return false
        }
        return withUnsafeCurrentTask { $0?.unownedTaskExecutor == nil }
    }

    /// Whether committing a write needing `needed` reads little before it writes: no process of
    /// this version has committed or compacted since this one last looked (catching up could mean
    /// reading a whole file), and an owner's records it needs are in memory already (an owner may
    /// have thousands in the snapshot).
    private func hasLittleToRead(needing needed: RecordsNeeded) -> Bool {
        state.withLock { state in
            guard state.shared.changeCounter == state.seenChange else { return false }
            guard let snapshot = state.snapshot else { return true }
            switch needed {
            case .owner(let owner): return snapshot.ownersRead.contains(owner)
            case .ids(_, let withTheirOwners): return !withTheirOwners
            case .none, .digest: return true
            case .found, .all: return false
            }
        }
    }

    /// Commits `write` on the calling thread, which found the store idle and now drains the queue;
    /// then hands draining to the writer queue if work arrived meanwhile or a compaction is due.
    /// When there is much to read first, or another process holds the writers' lock, the write
    /// goes to the writer queue instead.
    private func commitHere(_ write: PendingWrite) {
        // Only read-write handles queue writes, and they always have a lock file.
        guard let lockFile, hasLittleToRead(needing: write.needed), Self.lockedAtOnce(lockFile) else {
            // The writer queue reads, waits for the lock or reports the failure to lock, without
            // blocking this thread. (Work queued meanwhile came after this write.)
            queue.withLock { $0.waiting.insert(.write(write), at: 0) }
            writerQueue.async { self.drain() }
            return
        }
        commitLocked([write])
        lockFile.unlock()
        let compactionDue = isCompactionDue()
        let handOff = queue.withLock { queue in
            queue.callingThreadCommits += 1
            if queue.waiting.isEmpty, !compactionDue { queue.draining = false }
            return queue.draining
        }
        if handOff { writerQueue.async { self.drain(compactingFirst: compactionDue) } }
    }

    /// Commits queued writes, each run of them as one group, and runs requested compactions, in
    /// arrival order, until nothing is left. Each group compacts afterwards when due; so does a
    /// write committed on its caller's thread (`compactingFirst`), before the work queued after it
    /// (unless another process holds the lock past the lock timeout: the next group then compacts).
    func drain(compactingFirst: Bool = false) {
        if compactingFirst { compactIfDueTakingLock() }
        while true {
            let work = queue.withLock { $0.takeAll() }
            guard !work.isEmpty else { return }
            var writes: [PendingWrite] = []
            for item in work {
                switch item {
                case .write(let write):
                    writes.append(write)
                case .compaction(let answer):
                    if !writes.isEmpty { commitGroup(writes) }
                    writes = []
                    answer(compactNow())
                }
            }
            if !writes.isEmpty { commitGroup(writes) }
        }
    }

    /// Compacts when due, taking the writers' lock. Held by another process past the lock timeout,
    /// the compaction is left for the next commit.
    private func compactIfDueTakingLock() {
        guard let lockFile else { return }
        do {
            try Self.acquire(lockFile, timeout: options.lockTimeout, path: path)
        } catch {
            // Dropped on purpose: compacting is never a caller's failure, and the next commit
            // waits for the lock too (and reports it to its callers).
            return
        }
        defer { lockFile.unlock() }
        compactIfDueHoldingLock()
    }

    /// Takes the writers' lock on `lockFile` if nobody holds it; `false` if another process does or
    /// locking fails (``acquire(_:timeout:path:)`` then reports why).
    private static func lockedAtOnce(_ lockFile: POSIXFile) -> Bool {
        do {
            return try lockFile.tryLock()
        } catch {
            return false
        }
    }
}
