import Foundation
import Synchronization

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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

    /// The queue of writes and compactions, whether a thread is draining it, and how long the last
    /// sync took.
    ///
    /// Only the thread draining the queue takes the writers' lock: `flock` excludes other
    /// processes, not other threads of this one.
    struct PendingWrites {
        var writes: [PendingWrite] = []
        /// Callers of ``FileTokenStore/compact()``, answered with the compaction's outcome.
        var compactions: [@Sendable (Result<Void, TokenKitError>) -> Void] = []
        /// Set while a thread drains the queue: the writer queue, or a caller that found the store
        /// idle and commits its own write.
        var draining = false
        /// How long the last commit's write and sync took; `nil` before the first.
        var lastSync: Duration?
        /// How many writes were committed on their caller's thread (for tests).
        var callingThreadCommits = 0

        /// What a caller does with its write once it is queued or kept.
        enum Turn {
            /// Another thread is committing and will take the write with its next group.
            case queued
            /// The store was idle: the caller commits the write itself (it was not queued).
            case commitHere
            /// The store was idle: the caller starts the writer queue.
            case startWriterQueue
        }

        /// Queues `write`, or keeps it out of the queue for its caller to commit itself when the
        /// store is idle, the write may be committed there, and the last sync was quick.
        mutating func take(_ write: PendingWrite, mayCommitHere: Bool) -> Turn {
            if draining {
                writes.append(write)
                return .queued
            }
            draining = true
            if mayCommitHere, let lastSync, lastSync <= FileTokenStore.callingThreadSyncLimit {
                return .commitHere
            }
            writes.append(write)
            return .startWriterQueue
        }
    }

    /// A commit whose last sync took at most this long may run on its caller's thread.
    static let callingThreadSyncLimit = Duration.milliseconds(1)

    /// Queues a write and waits until it is on stable storage (or has failed). `needed` names the
    /// records `plan` looks up or lists (beyond those it writes), for a store that reads its
    /// snapshot from an index file.
    ///
    /// A write that finds the store idle is committed on the calling thread, without the two
    /// thread hand-offs of the writer queue (on a 2-vCPU VM they cost one writer about an eighth
    /// of its rate), when that blocks the thread briefly: the last sync took at most
    /// ``callingThreadSyncLimit``, the write does not read every record, the task runs on Swift's
    /// global executor, and no other process holds the writers' lock. Writes that arrive
    /// meanwhile wait without blocking a thread and are committed by the writer queue, which also
    /// runs compactions.
    func commit<Answer: Sendable>(
        needing needed: RecordsNeeded = .none,
        _ plan: @escaping @Sendable (TokenIndex) throws -> IndexPlan<Answer>
    ) async throws -> Answer {
        guard options.access == .readWrite else { throw readOnlyError() }
        // Only on Swift's global executor: a task that prefers an executor of its own (such as an
        // event loop, with `withTaskExecutorPreference`) runs this function there, and must not be
        // blocked. A write that reads every record takes longer than a sync.
        let onGlobalExecutor = withUnsafeCurrentTask { $0?.unownedTaskExecutor == nil }
        let mayCommitHere = if case .all = needed { false } else { onGlobalExecutor }
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
            switch pending.withLock({ $0.take(write, mayCommitHere: mayCommitHere) }) {
            case .queued: break
            case .commitHere: commitHere(write)
            case .startWriterQueue: writerQueue.async { self.drain() }
            }
        }
    }

    /// Commits `write` on the calling thread, which found the store idle and now drains it; then
    /// hands draining to the writer queue if writes or compactions arrived meanwhile, or a
    /// compaction is due. When another process holds the writers' lock, the write goes to the
    /// writer queue, which waits for it.
    private func commitHere(_ write: PendingWrite) {
        // Only read-write handles queue writes, and they always have a lock file.
        guard let lockFile, Self.lockedAtOnce(lockFile) else {
            // Locked by another process, or failing to lock: the writer queue waits for the lock,
            // or reports the failure, without blocking this thread.
            pending.withLock { $0.writes.insert(write, at: 0) }
            writerQueue.async { self.drain() }
            return
        }
        commitLocked(Group([write]))
        lockFile.unlock()
        let compactionDue = isCompactionDue()
        let handOff = pending.withLock { pending in
            pending.callingThreadCommits += 1
            if pending.writes.isEmpty, pending.compactions.isEmpty, !compactionDue { pending.draining = false }
            return pending.draining
        }
        if handOff { writerQueue.async { self.drain(compactingFirst: compactionDue) } }
    }

    /// Commits queued writes, a whole queue at a time, and runs requested compactions, until
    /// none are left. Each group compacts afterwards when due; so does a write committed on its
    /// caller's thread (`compactingFirst`), before the writes queued after it are answered.
    func drain(compactingFirst: Bool = false) {
        if compactingFirst { compactUnderLock() }
        while true {
            let (writes, compactions) = pending.withLock { pending in
                let taken = (pending.writes, pending.compactions)
                pending.writes.removeAll()
                pending.compactions.removeAll()
                if taken.0.isEmpty, taken.1.isEmpty { pending.draining = false }
                return taken
            }
            guard !writes.isEmpty || !compactions.isEmpty else { return }
            if !writes.isEmpty { commitGroup(writes) }
            if !compactions.isEmpty {
                let outcome = compactNow()
                for answer in compactions { answer(outcome) }
            }
        }
    }

    /// Compacts when due, holding the writers' lock. A lock held too long by another process
    /// leaves the compaction for the next commit.
    private func compactUnderLock() {
        guard let lockFile, isCompactionDue() else { return }
        do {
            try Self.acquire(lockFile, timeout: options.lockTimeout, path: path)
        } catch {
            // Dropped on purpose: compacting is never a caller's failure; the next commit, which
            // waits for the lock too, tries again (and reports the lock to its callers).
            return
        }
        defer { lockFile.unlock() }
        compactIfNeeded()
    }

    // MARK: Committing a group

    /// The writes of one group and what each is to be answered.
    private struct Group {
        enum Outcome {
            case pending
            case refused(any Error)
            case accepted(@Sendable () -> Void)
        }

        let writes: [PendingWrite]
        var outcomes: [Outcome]

        init(_ writes: [PendingWrite]) {
            self.writes = writes
            outcomes = Array(repeating: .pending, count: writes.count)
        }

        /// Answers every caller: accepted writes succeed unless `failure` is given, in which case
        /// they, and writes never planned, fail with it. So do writes refused after an accepted
        /// one: their refusal may rest on a change that never happened (a name taken by an insert
        /// that failed).
        func answer(failure: (any Error)?) {
            var afterAccepted = false
            for (write, outcome) in zip(writes, outcomes) {
                switch (outcome, failure) {
                case (.refused(let error), nil): write.fail(error)
                case (.refused(let error), let failure?): write.fail(afterAccepted ? failure : error)
                case (.accepted(let answer), nil): answer()
                case (_, let failure?): write.fail(failure)
                case (.pending, nil): write.fail(TokenKitError.contractViolation("a write was never planned"))
                }
                if case .accepted = outcome { afterAccepted = true }
            }
        }
    }

    /// A group's log entries, encoded and ready to append.
    private struct StagedGroup {
        let file: POSIXFile
        /// The file's size when the group was planned (nobody else writes while the lock is held).
        let fileSize: Int
        let offset: Int
        let sequence: UInt64
        let entries: [LogEntry]
        let bytes: [UInt8]
    }

    /// Commits `writes` as one group: one write, one sync, then the group becomes visible and every
    /// caller is answered. Compacts afterwards when due.
    private func commitGroup(_ writes: [PendingWrite]) {
        let group = Group(writes)
        // Only read-write handles queue writes, and they always have a lock file.
        guard let lockFile else {
            group.answer(failure: readOnlyError())
            return
        }
        do {
            try Self.acquire(lockFile, timeout: options.lockTimeout, path: path)
        } catch {
            group.answer(failure: error)
            return
        }
        defer { lockFile.unlock() }
        commitLocked(group)
        compactIfNeeded()
    }

    /// Commits `group` while this process holds the writers' lock, and answers its callers.
    private func commitLocked(_ group: Group) {
        var group = group
        do {
            if let staged = try stage(&group) {
                try persist(staged)
            }
            group.answer(failure: nil)
        } catch {
            group.answer(failure: error)
        }
    }

    /// Plans each write under the state lock, after picking up other processes' commits, and
    /// encodes the accepted ones as the next group. Each write is planned with the earlier ones of
    /// the group applied, then all are rolled back before the lock is let go: nobody sees the
    /// group until ``persist(_:)`` has made it durable.
    private func stage(_ group: inout Group) throws(TokenKitError) -> StagedGroup? {
        try state.withLock { (state) throws(TokenKitError) -> StagedGroup? in
            if let refused = state.writesRefused { throw refused }
            let pathStatus = try checkIdentity(&state)
            let fileSize = try catchUpOrDetach(&state, holdingLock: true, pathStatus: pathStatus)
            for write in group.writes { try state.read(write.needed) }
            let entries: [LogEntry]
            do {
                entries = try Self.planEach(&group, in: &state)
            } catch {
                // The index file turned out damaged while planning (and nothing of the group is
                // applied any more): read the whole log instead, and plan the group again.
                try state.readWholeLog()
                entries = try Self.planEach(&group, in: &state)
            }
            guard !entries.isEmpty else { return nil }
            let sequence = state.lastSequence + 1
            state.appendingFrom = state.committedEnd
            return StagedGroup(
                file: state.file,
                fileSize: fileSize,
                offset: state.committedEnd,
                sequence: sequence,
                entries: entries,
                bytes: StoreFileFormat.encodeGroup(entries, sequence: sequence)
            )
        }
    }

    /// Plans each write of the group, with the earlier ones applied, and returns the accepted
    /// writes' entries; rolls every entry back before it returns. A write whose plan throws is
    /// refused. Throws only when reading the snapshot fails, after rolling back.
    private static func planEach(_ group: inout Group, in state: inout State) throws(TokenKitError) -> [LogEntry] {
        let hasher = state.index.hasher
        var undo: [LogEntry] = []
        var entries: [LogEntry] = []
        defer {
            for entry in undo.reversed() { state.index.apply(entry) }
            state.index.hasher = hasher
        }
        for index in group.writes.indices {
            let planned: (entries: [LogEntry], answer: @Sendable () -> Void)
            do {
                planned = try plan(group.writes[index], in: &state)
            } catch let failure as SnapshotReadFailure {
                throw failure.error
            } catch {
                group.outcomes[index] = .refused(error)
                continue
            }
            for entry in planned.entries {
                undo.append(state.index.undoEntry(for: entry))
                state.applyOverSnapshot(entry)
            }
            entries += planned.entries
            group.outcomes[index] = .accepted(planned.answer)
        }
        return entries
    }

    /// Reading the snapshot failed while a write was planned: not the write's own refusal.
    private struct SnapshotReadFailure: Error {
        let error: TokenKitError
    }

    /// Plans `write`, and plans it again if the records its entries write turn out to have
    /// snapshot versions not yet in memory (a plan must see, for instance, that a new token's id
    /// is taken). ``RecordsNeeded`` names the rest.
    private static func plan(
        _ write: PendingWrite,
        in state: inout State
    ) throws -> (entries: [LogEntry], answer: @Sendable () -> Void) {
        while true {
            let planned = try write.plan(state.index)
            var read = false
            do throws(TokenKitError) {
                for entry in planned.entries {
                    switch entry {
                    case .put(let record):
                        read = try state.readFromSnapshot(.ids([record.id], withTheirOwners: false)) || read
                        read = try state.readFromSnapshot(.digest(record.digest)) || read
                    case .remove(let id):
                        read = try state.readFromSnapshot(.ids([id], withTheirOwners: false)) || read
                    case .hasher:
                        break
                    }
                }
            } catch {
                throw SnapshotReadFailure(error: error)
            }
            if !read { return planned }
        }
    }

    /// Appends and syncs a staged group outside the state lock (readers are served meanwhile), then
    /// applies it and publishes it as durable to every process. If the write or the sync fails,
    /// nothing is applied or published, and the group's bytes are cut off again (still under the
    /// writers' lock) so that no process ever reads them. If even that fails, this handle refuses
    /// every later write: a reopen decides from what the file then holds.
    private func persist(_ staged: StagedGroup) throws(TokenKitError) {
        do throws(TokenKitError) {
            let start = ContinuousClock.now
            try Self.preallocate(staged.file, size: staged.fileSize, through: staged.offset + staged.bytes.count)
            try staged.file.write(staged.bytes, at: staged.offset)
            if let injected = injectedSyncFailure.withLock({ $0.take() }) { throw injected }
            if options.durability == .synchronous { try staged.file.synchronize() }
            let took = ContinuousClock.now - start
            pending.withLock { $0.lastSync = took }
        } catch {
            let undone: Result<Void, TokenKitError> = Result { () throws(TokenKitError) in
                try staged.file.truncate(to: staged.offset)
                try staged.file.synchronize()
            }
            state.withLock { state in
                state.appendingFrom = nil
                if case .failure(let undoError) = undone {
                    state.writesRefused = TokenKitError(
                        undoError.code,
                        "A failed write to the token store \(quoted(path)) could not be undone (\(undoError.message)); reopen the store before writing again.",
                        underlyingError: error
                    )
                }
            }
            throw error
        }
        state.withLock { state in
            for entry in staged.entries { state.applyOverSnapshot(entry) }
            state.committedEnd = staged.offset + staged.bytes.count
            state.lastSequence = staged.sequence
            state.logEntries += staged.entries.count
            state.appendingFrom = nil
            state.seenChange = state.shared.publish(sequence: staged.sequence)
        }
    }

    /// How much the log grows by when a commit does not fit in what it has: an eighth of its size,
    /// from 64 KiB to 1 MiB, so that a small store stays small, and an open (which checks that the
    /// zeros hide no commit) reads at most 1 MiB of them.
    static func preallocationChunk(forSize size: Int) -> Int {
        min(max(size / 8, 64 << 10), 1 << 20)
    }

    /// Makes `file`, `size` bytes long, reach past `end` by writing zeros after what it holds, so that commits
    /// overwrite space the file already has: their syncs then flush data alone, not the file's
    /// size (which only the sync of the first commit after growing flushes).
    ///
    /// A disk too full for the chunk is not the commit's failure: the commit then appends, and
    /// its own write reports a disk too full for it. Zeros written before the failure are
    /// preallocated space like any other.
    static func preallocate(_ file: POSIXFile, size: Int, through end: Int) throws(TokenKitError) {
        guard end > size else { return }
        let target = end + preallocationChunk(forSize: size)
        do {
            try file.write([UInt8](repeating: 0, count: target - size), at: size)
        } catch  where error.code == .storageFull {
            // Dropped on purpose: the disk has no room for the chunk, which may still leave room
            // for the commit. Other failures are the commit's: they fail it, and it is undone.
            return
        }
    }

    /// The error for a write through a read-only handle.
    func readOnlyError() -> TokenKitError {
        TokenKitError(
            .readOnlyStorage,
            "The token store \(quoted(path)) was opened read-only; open it with access: .readWrite to change tokens."
        )
    }

    /// Makes the next commit's sync fail with `error`, for tests of what a failed sync leaves.
    func injectSyncFailure(_ error: TokenKitError) {
        injectedSyncFailure.withLock { $0 = error }
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

    /// Takes the writers' lock on `lockFile`, waiting up to `timeout` for another holder.
    static func acquire(_ lockFile: POSIXFile, timeout: Duration, path: String) throws(TokenKitError) {
        let deadline = ContinuousClock.now + timeout
        while try !lockFile.tryLock() {
            guard ContinuousClock.now < deadline else {
                throw TokenKitError(
                    .storeLocked,
                    "Another process has held the lock on the token store \(quoted(path)) for more than \(timeout); try again, or find the process that holds \(quoted(lockFile.path))."
                )
            }
            usleep(1_000)
        }
    }
}

extension TokenIndex {
    /// The entry that undoes `entry` if it were applied now. (A hasher entry's undo is the current
    /// hasher, or the same entry when none is bound; callers restore ``hasher`` themselves.)
    func undoEntry(for entry: LogEntry) -> LogEntry {
        switch entry {
        case .put(let new):
            self.record(id: new.id).map(LogEntry.put) ?? .remove(new.id)
        case .remove(let id):
            self.record(id: id).map(LogEntry.put) ?? .remove(id)
        case .hasher(let identity):
            .hasher(hasher ?? identity)
        }
    }
}
