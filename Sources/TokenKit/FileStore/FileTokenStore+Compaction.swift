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

    /// Compacts when dead entries reach the threshold and outnumber live records, unless a recent
    /// failure asks to wait. Runs on the writer queue, holding the writers' lock. A failed
    /// compaction leaves the store as it was; the failure is kept for ``performMaintenance()``.
    func compactIfNeeded() {
        let (live, total) = state.withLock { ($0.index.count, $0.logEntries) }
        let dead = total - live
        guard dead >= options.compactionThreshold, dead >= live else { return }
        let now = ContinuousClock.now
        guard compaction.withLock({ $0.retryAfter.map { now >= $0 } ?? true }) else { return }
        do {
            try compact()
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

    /// Writes the live records to a new file and renames it over the store.
    ///
    /// Readers keep being served from memory throughout: the index is read a slice at a time, and
    /// nothing changes it meanwhile, because this queue is the process's only writer and the lock
    /// keeps other processes from committing.
    func compact() throws(TokenKitError) {
        let (sequence, slotCount, hasher) = state.withLock { ($0.lastSequence, $0.index.slotCount, $0.index.hasher) }
        let snapshot = try Self.writeSnapshot(sequence: sequence, path: path, hasher: hasher, slotCount: slotCount) {
            slots in
            state.withLock { $0.index.records(inSlots: slots) }
        }
        try state.withLock { (state) throws(TokenKitError) in
            state.file = snapshot.file
            state.fileStatus = try snapshot.file.status()
            state.committedEnd = snapshot.end
            state.logEntries = state.index.count
            state.seenChange = state.shared.countChange()
        }
    }

    /// Writes a store file holding the hasher identity and the records of slots `0..<slotCount`
    /// as one snapshot group, syncs it, and renames it over `path`; returns the new file and where
    /// its snapshot ends.
    ///
    /// - Parameter records: The records of a range of slots, read a slice at a time so that memory
    ///   stays bounded however large the store.
    static func writeSnapshot(
        sequence: UInt64,
        path: String,
        hasher: TokenHasherIdentity?,
        slotCount: Int,
        records: (Range<Int>) -> [TokenRecord]
    ) throws(TokenKitError) -> (file: POSIXFile, end: Int) {
        let temporary = path + ".compacting"
        defer { POSIXFile.remove(temporary) }
        let file = try POSIXFile(creatingFresh: temporary)
        var offset = StoreFileFormat.headerSize
        var payload = ByteWriter()
        var part: UInt32 = 0

        func writeBatch(isLast: Bool) throws(TokenKitError) {
            var batch: [UInt8] = []
            StoreFileFormat.appendBatch(payload.bytes, sequence: sequence, part: part, isLast: isLast, to: &batch)
            try file.write(batch, at: offset)
            offset += batch.count
            payload = ByteWriter()
            part += 1
        }

        if let hasher { LogEntry.hasher(hasher).encode(into: &payload) }
        var start = 0
        while start < slotCount {
            let slots = start..<min(start + 4096, slotCount)
            for record in records(slots) {
                LogEntry.put(record).encode(into: &payload)
                if payload.bytes.count >= StoreFileFormat.maximumPayload - 16 * 1024 {
                    try writeBatch(isLast: false)
                }
            }
            start = slots.upperBound
        }
        try writeBatch(isLast: true)
        let header = StoreFileFormat.Header(snapshotEnd: offset, snapshotSequence: sequence)
        try file.write(header.encoded(), at: 0)
        try file.synchronize()
        try POSIXFile.move(temporary, to: path)
        try POSIXFile.synchronizeDirectory(directory(of: path))
        return (file, offset)
    }
}
