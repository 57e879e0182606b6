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
    func commitGroup(_ writes: [PendingWrite]) {
        // Only read-write handles queue writes, and they always have a lock file.
        guard let lockFile else {
            Group(writes).answer(failure: readOnlyError())
            return
        }
        do {
            try Self.acquire(lockFile, timeout: options.lockTimeout, path: path)
        } catch {
            Group(writes).answer(failure: error)
            return
        }
        defer { lockFile.unlock() }
        commitLocked(writes)
        compactIfDueHoldingLock()
    }

    /// Commits `writes` as one group while this process holds the writers' lock, and answers
    /// their callers.
    func commitLocked(_ writes: [PendingWrite]) {
        var group = Group(writes)
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
            queue.withLock { $0.lastSync = took }
        } catch {
            // Not known to be quick any more: the next write goes to the writer queue, and times
            // its sync there.
            queue.withLock { $0.lastSync = nil }
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

    /// Makes `file`, `size` bytes long, reach past `end` by writing zeros after what it holds, so
    /// that commits overwrite space the file already has: their syncs then flush data alone, not
    /// the file's size (which only the sync of the first commit after growing flushes).
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
