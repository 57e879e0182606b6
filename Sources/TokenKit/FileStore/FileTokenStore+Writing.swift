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
        /// Checks the store contract against the index (with the writes before it in the same
        /// commit applied) and returns the entries to log, and how to answer the caller once they
        /// are on stable storage.
        let prepare: @Sendable (TokenIndex) throws -> (entries: [LogEntry], answer: @Sendable () -> Void)
        /// Answers the caller with a failure.
        let fail: @Sendable (any Error) -> Void
    }

    /// The queue of writes and whether the writer queue is draining it.
    struct PendingWrites {
        var writes: [PendingWrite] = []
        var draining = false
    }

    /// Queues a write and waits until it is on stable storage (or has failed).
    func commit<T: Sendable>(
        _ prepare: @escaping @Sendable (TokenIndex) throws -> (entries: [LogEntry], result: T)
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let write = PendingWrite(
                prepare: { index in
                    let (entries, result) = try prepare(index)
                    return (entries, { continuation.resume(returning: result) })
                },
                fail: { continuation.resume(throwing: $0) }
            )
            let startDraining = pending.withLock { pending in
                pending.writes.append(write)
                defer { pending.draining = true }
                return !pending.draining
            }
            if startDraining {
                writerQueue.async { self.drain() }
            }
        }
    }

    /// Commits queued writes, a whole queue at a time, until none are left.
    private func drain() {
        while true {
            let writes = pending.withLock { pending in
                let writes = pending.writes
                pending.writes.removeAll()
                if writes.isEmpty { pending.draining = false }
                return writes
            }
            guard !writes.isEmpty else { return }
            commitGroup(writes)
        }
    }

    /// Commits `writes` as one group: one write, one sync, then every caller is answered.
    private func commitGroup(_ writes: [PendingWrite]) {
        do {
            try Self.acquire(lockFile, timeout: options.lockTimeout, path: path)
        } catch {
            for write in writes { write.fail(error) }
            return
        }
        defer { lockFile.unlock() }

        // Prepare under the state lock: pick up other processes' commits, check each write against
        // the index, and apply it at once so the next write in the group sees it.
        struct Plan {
            var file: POSIXFile
            var offset: Int
            var bytes: [UInt8]
            var entryCount: Int
            var undo: [LogEntry]
            var accepted: [(answer: @Sendable () -> Void, fail: @Sendable (any Error) -> Void)]
        }
        let planned: Result<Plan, TokenKitError> = state.withLock { state in
            do throws(TokenKitError) {
                try catchUp(&state, holdingLock: true)
            } catch {
                return .failure(error)
            }
            var plan = Plan(
                file: state.file,
                offset: state.committedEnd,
                bytes: [],
                entryCount: 0,
                undo: [],
                accepted: []
            )
            var entries: [LogEntry] = []
            for write in writes {
                do {
                    let (newEntries, answer) = try write.prepare(state.index)
                    for entry in newEntries {
                        plan.undo.append(state.index.undoEntry(for: entry))
                        state.index.apply(entry)
                    }
                    entries += newEntries
                    plan.accepted.append((answer, write.fail))
                } catch {
                    write.fail(error)
                }
            }
            if !entries.isEmpty {
                plan.bytes = StoreFileFormat.encodeGroup(entries, sequence: state.lastSequence + 1)
                plan.entryCount = entries.count
                state.appendingFrom = plan.offset
            }
            return .success(plan)
        }
        let plan: Plan
        switch planned {
        case .success(let value): plan = value
        case .failure(let error):
            for write in writes { write.fail(error) }
            return
        }
        guard !plan.bytes.isEmpty else {
            for write in plan.accepted { write.answer() }
            return
        }

        // Write and sync outside the state lock, so readers are served meanwhile.
        do {
            try plan.file.write(plan.bytes, at: plan.offset)
            if options.durability == .synchronous { try plan.file.synchronize() }
        } catch {
            state.withLock { state in
                for entry in plan.undo.reversed() { state.index.apply(entry) }
                try? plan.file.truncate(to: plan.offset)
                state.appendingFrom = nil
            }
            for write in plan.accepted { write.fail(error) }
            return
        }
        state.withLock { state in
            state.committedEnd = plan.offset + plan.bytes.count
            state.lastSequence += 1
            state.logEntries += plan.entryCount
            state.appendingFrom = nil
            state.seenChange = state.shared.countChange()
        }
        for write in plan.accepted { write.answer() }
        compactIfNeeded()
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
    /// The entry that undoes `entry` if it were applied now.
    func undoEntry(for entry: LogEntry) -> LogEntry {
        switch entry {
        case .put(let new):
            self.record(id: new.id).map(LogEntry.put) ?? .remove(new.id)
        case .remove(let id):
            self.record(id: id).map(LogEntry.put) ?? .remove(id)
        }
    }
}
