import Dispatch
import Synchronization

extension FileTokenStore {
    /// How compaction has fared: a failure is kept until ``performMaintenance()`` reports it, and
    /// further attempts wait with a growing backoff instead of rewriting the store on every commit.
    struct CompactionHealth {
        /// The failure not yet reported by ``performMaintenance()``.
        var unreported: TokenKitError?
        /// Failures since the last success.
        var consecutiveFailures = 0
        /// No attempt before this instant.
        var retryAfter: ContinuousClock.Instant?
    }

    /// Compacts now, with the writers' lock held and caught up. A failed compaction leaves the
    /// store as it was; the failure is kept for ``performMaintenance()``, and the next attempt
    /// waits with a growing backoff.
    private func compactRecordingFailure() {
        let now = ContinuousClock.now
        do {
            try writeCompactedStore()
            compaction.withLock { $0 = CompactionHealth() }
        } catch {
            compaction.withLock { health in
                health.consecutiveFailures += 1
                health.unreported = error
                // 2 s, 4 s, 8 s … at most 5 minutes between attempts.
                let backoff = Duration.seconds(1 << min(health.consecutiveFailures, 8))
                health.retryAfter = now + min(backoff, .seconds(300))
            }
        }
    }

    /// Whether dead entries reach the threshold and outnumber live records, and no recent failed
    /// compaction asks to wait.
    func isCompactionDue() -> Bool {
        let counts = state.withLock { state in
            Result { () throws(TokenKitError) in
                // A stopped handle, or one whose failed write was not undone, holds nothing to trust.
                if let stopped = state.detached ?? state.writesRefused { throw stopped }
                return (live: try state.recordCount(), total: state.logEntries)
            }
        }
        // Records that cannot be counted cannot be compacted; the next call that reads them
        // reports why.
        guard case .success(let (live, total)) = counts else { return false }
        let dead = total - live
        guard dead >= options.compactionThreshold, dead >= live else { return false }
        let now = ContinuousClock.now
        return compaction.withLock { $0.retryAfter.map { now >= $0 } ?? true }
    }

    /// Compacts the store now, however few its dead entries: writes its records to a new file,
    /// with the index file (`<path>.index`) that lets the next open read only what is written
    /// after. Runs after the writes queued before it, holding the writers' lock.
    ///
    /// Compaction also runs by itself once dead entries pile up. Call this to give a store written
    /// by an earlier version its index file at once, or after a bulk import.
    ///
    /// - Throws: ``TokenKitError``, such as ``TokenKitError/Code/storageFull`` (the store is then
    ///   as it was) or ``TokenKitError/Code/readOnlyStorage`` for a read-only handle.
    public func compact() async throws {
        guard options.access == .readWrite else { throw readOnlyError() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let answer: @Sendable (Result<Void, TokenKitError>) -> Void = {
                continuation.resume(with: $0.mapError { $0 })
            }
            if queue.withLock({ $0.enqueue(.compaction(answer)) }) { writerQueue.async { self.drain() } }
        }
    }

    /// Compacts now, however few the dead entries, taking the writers' lock: the body of
    /// ``compact()``, run by the thread draining the write queue.
    func compactNow() -> Result<Void, TokenKitError> {
        Result { () throws(TokenKitError) in
            // Only read-write handles queue compactions, and they always have a lock file.
            guard let lockFile else { throw readOnlyError() }
            try Self.acquire(lockFile, timeout: options.lockTimeout, path: path)
            defer { lockFile.unlock() }
            try catchUpHoldingLock()
            try writeCompactedStore()
            compaction.withLock { $0 = CompactionHealth() }
        }
    }

    /// Compacts when due, while the thread draining the write queue holds the writers' lock. First
    /// picks up what other processes committed since this one last looked, because a compaction
    /// writes what this process holds; compacts nothing if that fails.
    func compactIfDueHoldingLock() {
        guard isCompactionDue() else { return }
        do {
            try catchUpHoldingLock()
        } catch {
            // Dropped on purpose: compacting is never a caller's failure. The next commit catches
            // up the same way, and reports the failure to its callers.
            return
        }
        guard isCompactionDue() else { return }
        compactRecordingFailure()
    }

    /// With the writers' lock held: refuses a handle that may not write, checks that its files are
    /// still the store's, and picks up other processes' commits.
    private func catchUpHoldingLock() throws(TokenKitError) {
        try state.withLock { (state) throws(TokenKitError) in
            if let refused = state.writesRefused { throw refused }
            let pathStatus = try checkIdentity(&state)
            try catchUpOrDetach(&state, holdingLock: true, pathStatus: pathStatus)
        }
    }

    /// Writes the live records to a new file with its index file, and renames them over the store's.
    ///
    /// Readers keep being served throughout. The records are written from a copy of the memory
    /// layer taken at the start, and the snapshot under it: nothing changes what they hold
    /// meanwhile, because the thread draining the write queue is the process's only writer and the
    /// lock keeps other processes from committing. (Readers may read more snapshot records into memory meanwhile;
    /// that changes nothing they hold.) Afterwards the store reads the new snapshot through its
    /// new index file, so the memory the old records took is given back.
    func writeCompactedStore() throws(TokenKitError) {
        let (sequence, memory, snapshot) = try state.withLock {
            (state) throws(TokenKitError) -> (UInt64, TokenIndex, IndexedSnapshot?) in
            if let stopped = state.detached ?? state.writesRefused { throw stopped }
            return (state.lastSequence, state.index, state.snapshot)
        }
        // A store without a commit has nothing to compact (and a snapshot needs a sequence above 0).
        guard sequence > 0 else { return }
        var reader = SnapshotRecordReader(memory: memory, snapshot: snapshot)
        // The copies are this call's own, and the index file is immutable: no lock is needed.
        let written = try Self.writeSnapshot(sequence: sequence, path: path, hasher: memory.hasher) {
            () throws(TokenKitError) -> [TokenRecord]? in try reader.next()
        }
        try state.withLock { (state) throws(TokenKitError) in
            state.file = written.file
            state.fileStatus = try written.file.status()
            state.committedEnd = written.end
            if let indexFile = written.indexFile {
                state.index = TokenIndex()
                state.index.hasher = memory.hasher
                state.snapshot = IndexedSnapshot(file: indexFile)
            }
            state.logEntries = try state.recordCount()
            state.seenChange = state.shared.countChange()
        }
    }

    /// Reads the records to compact, a slice at a time: the snapshot's records not hidden by the
    /// memory layer, then the memory layer's.
    struct SnapshotRecordReader {
        let memory: TokenIndex
        let snapshot: IndexedSnapshot?
        private var nextNumber = 0
        private var nextSlot = 0

        init(memory: TokenIndex, snapshot: IndexedSnapshot?) {
            self.memory = memory
            self.snapshot = snapshot
        }

        /// The next slice of records, or `nil` after the last.
        mutating func next() throws(TokenKitError) -> [TokenRecord]? {
            if let snapshot, nextNumber < snapshot.file.header.recordCount {
                let numbers = nextNumber..<min(nextNumber + 4096, snapshot.file.header.recordCount)
                nextNumber = numbers.upperBound
                var records: [TokenRecord] = []
                for number in numbers {
                    let record = try snapshot.file.record(number: number)
                    if !snapshot.hides(record.id, in: memory) { records.append(record) }
                }
                return records
            }
            guard nextSlot < memory.slotCount else { return nil }
            let slots = nextSlot..<min(nextSlot + 4096, memory.slotCount)
            nextSlot = slots.upperBound
            return memory.records(inSlots: slots)
        }
    }

    /// Writes a store file holding the hasher identity and the records `nextRecords` gives, a
    /// slice at a time until `nil` (so that memory stays bounded however large the store), as one
    /// snapshot group, and its index file; syncs both and renames them over the store's (the index
    /// file first: a crash between the renames leaves an index file that does not match the log,
    /// which the store ignores). Returns the new file, where its snapshot ends, and its index
    /// file opened.
    static func writeSnapshot(
        sequence: UInt64,
        path: String,
        hasher: TokenHasherIdentity?,
        records nextRecords: () throws(TokenKitError) -> [TokenRecord]?
    ) throws(TokenKitError) -> (file: POSIXFile, end: Int, indexFile: IndexFile?) {
        guard sequence > 0 else { throw TokenKitError.contractViolation("a snapshot needs a sequence number above 0") }
        let temporary = path + ".compacting"
        let indexPath = IndexFile.path(forStore: path)
        let temporaryIndex = indexPath + ".compacting"
        defer {
            POSIXFile.remove(temporary)
            POSIXFile.remove(temporaryIndex)
        }
        let file = try POSIXFile(creatingFresh: temporary)
        var offset = StoreFileFormat.headerSize
        var payload = ByteWriter()
        var part: UInt32 = 0
        var index = IndexFileWriter()
        var lastBatch = (offset: 0, crc: UInt32(0))

        func writeBatch(isLast: Bool) throws(TokenKitError) {
            var batch: [UInt8] = []
            StoreFileFormat.appendBatch(payload.bytes, sequence: sequence, part: part, isLast: isLast, to: &batch)
            try file.write(batch, at: offset)
            lastBatch = (
                offset,
                batch.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 24, as: UInt32.self)) }
            )
            offset += batch.count
            payload = ByteWriter()
            part += 1
        }

        if let hasher { LogEntry.hasher(hasher).encode(into: &payload) }
        while let records = try nextRecords() {
            for record in records {
                let start = payload.bytes.count
                LogEntry.put(record).encode(into: &payload)
                payload.bytes.withUnsafeBytes { bytes in
                    let entryOffset = offset + StoreFileFormat.batchHeaderSize + start
                    index.add(record, at: entryOffset, encoded: UnsafeRawBufferPointer(rebasing: bytes[start...]))
                }
                if payload.bytes.count >= StoreFileFormat.maximumPayload - 16 * 1024 {
                    try writeBatch(isLast: false)
                }
            }
        }
        try writeBatch(isLast: true)
        let header = StoreFileFormat.Header(snapshotEnd: offset, snapshotSequence: sequence)
        try file.write(header.encoded(), at: 0)
        try file.synchronize()
        let snapshot = IndexFileWriter.Snapshot(
            sequence: sequence,
            end: offset,
            lastBatchOffset: lastBatch.offset,
            lastBatchCRC: lastBatch.crc,
            hasher: hasher
        )
        if index.canDescribe(snapshot) {
            try index.write(to: try POSIXFile(creatingFresh: temporaryIndex), snapshot: snapshot)
            try POSIXFile.move(temporaryIndex, to: indexPath)
        } else {
            // An old index file would be ignored (it names another snapshot); none is clearer.
            POSIXFile.remove(indexPath)
        }
        try POSIXFile.move(temporary, to: path)
        try POSIXFile.synchronizeDirectory(directory(of: path))
        // Opened again under the store's name, so that messages name the store, not the temporary
        // file. Nobody can have replaced it meanwhile: the caller holds the writers' lock.
        let renamed = try POSIXFile(openingExisting: path)
        return (renamed, offset, IndexFile.open(path: indexPath, log: renamed, logHeader: header))
    }
}
