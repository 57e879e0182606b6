/// The records of a `FileTokenStore`'s last compaction, reached through its index file and read
/// into memory only when needed.
///
/// A store opened from an index file holds two layers. In memory, a `TokenIndex` of every record
/// the log's tail (the commits since that compaction) wrote or removed, and every snapshot record
/// read so far. On disk, the snapshot, through this type. A record in memory, or removed by the
/// tail, hides its snapshot version: the snapshot answers only for ids the tail never touched.
/// Before anything is looked up or planned, the store reads into memory the snapshot records it
/// concerns (``FileTokenStore/RecordsNeeded``), so that the `TokenIndex` answers as if it held
/// every record.
struct IndexedSnapshot {
    let file: IndexFile
    /// Ids the tail removed: their snapshot versions are gone.
    var removedIDs: Set<TokenID> = []
    /// Owners whose snapshot records have all been read into memory.
    var ownersRead: Set<String> = []
    /// Ids in memory or removed whose presence in the snapshot has been looked up, and how many of
    /// them the snapshot holds: the snapshot records no longer counted as its own.
    private var idsChecked: Set<TokenID> = []
    private var hiddenCount = 0
    /// Ids the tail touched that are not checked yet (checked only when the count is asked for).
    private var idsToCheck: [TokenID] = []

    init(file: IndexFile) {
        self.file = file
    }

    /// Whether the snapshot version of the record with `id` is hidden by the memory layer.
    func hides(_ id: TokenID, in index: TokenIndex) -> Bool {
        removedIDs.contains(id) || index.contains(id: id)
    }

    /// Notes that the tail wrote or removed the record with `id`.
    mutating func noteTouched(_ id: TokenID, removed: Bool) {
        if removed { removedIDs.insert(id) }
        if !idsChecked.contains(id) { idsToCheck.append(id) }
    }

    /// Notes that the snapshot record with `id` was read into memory.
    mutating func noteRead(_ id: TokenID) {
        if idsChecked.insert(id).inserted { hiddenCount += 1 }
    }

    /// The snapshot records not hidden by the memory layer, after checking the ids touched since
    /// the last call.
    mutating func visibleCount() throws(TokenKitError) -> Int {
        for id in idsToCheck where !idsChecked.contains(id) {
            let inSnapshot = try file.record(id: id) != nil
            idsChecked.insert(id)
            if inSnapshot { hiddenCount += 1 }
        }
        idsToCheck.removeAll()
        return file.header.recordCount - hiddenCount
    }
}

extension FileTokenStore {
    /// The records a call looks up or plans with, which a store opened from an index file reads
    /// into memory first.
    enum RecordsNeeded: Sendable {
        case none
        /// The record with this digest.
        case digest(TokenDigest)
        /// The records with these ids, and, when asked, every record of their owners.
        case ids([TokenID], withTheirOwners: Bool)
        /// Every record of this owner.
        case owner(String)
        /// These snapshot records, found by a search of the snapshot read through this index file
        /// (as ``FileTokenStore/purge(before:)`` searches it): no other snapshot record matches
        /// the search, so a plan that checks every record in memory checks every match. Every
        /// record if the handle reads another snapshot by then (a compaction since).
        case found([TokenRecord], searching: IndexFile)
        /// Every record.
        case all
    }
}

extension FileTokenStore.State {
    /// The number of records held.
    mutating func recordCount() throws(TokenKitError) -> Int {
        guard snapshot != nil else { return index.count }
        return try withSnapshotFallback { (state) throws(TokenKitError) in
            try state.index.count + (state.snapshot?.visibleCount() ?? 0)
        }
    }

    /// Reads the snapshot records `needed` into memory. Damage found in the index file (or in a
    /// snapshot record) makes the store read its whole log instead, which reports damage in the log
    /// itself as corruption.
    mutating func read(_ needed: FileTokenStore.RecordsNeeded) throws(TokenKitError) {
        guard snapshot != nil else { return }
        try withSnapshotFallback { (state) throws(TokenKitError) in _ = try state.readFromSnapshot(needed) }
    }

    /// Reads the snapshot records `needed` into memory; returns whether it read any.
    mutating func readFromSnapshot(_ needed: FileTokenStore.RecordsNeeded) throws(TokenKitError) -> Bool {
        guard let file = snapshot?.file else { return false }
        switch needed {
        case .none:
            return false
        case .digest(let digest):
            guard !index.contains(digest: digest), let found = try file.record(forDigest: digest) else {
                return false
            }
            return adopt(found.record)
        case .ids(let ids, let withTheirOwners):
            var read = false
            for id in ids {
                if !index.contains(id: id), let found = try file.record(id: id) {
                    read = adopt(found.record) || read
                }
                if withTheirOwners, let owner = index.record(id: id)?.owner {
                    read = try readFromSnapshot(.owner(owner)) || read
                }
            }
            return read
        case .owner(let owner):
            guard snapshot?.ownersRead.contains(owner) == false else { return false }
            var read = false
            for found in try file.records(owner: owner) { read = adopt(found.record) || read }
            snapshot?.ownersRead.insert(owner)
            return read
        case .found(let records, let searched):
            guard file === searched else { return try readFromSnapshot(.all) }
            // Read and checked by the search; a record changed since is hidden, and not adopted.
            var read = false
            for record in records { read = adopt(record) || read }
            return read
        case .all:
            // Reading the log in order is far faster than a record at a time through the index.
            try readWholeLog()
            return true
        }
    }

    /// Puts a snapshot record into memory unless the memory layer hides it; returns whether it did.
    @discardableResult
    private mutating func adopt(_ record: TokenRecord) -> Bool {
        guard var snapshot, !snapshot.hides(record.id, in: index) else { return false }
        self.snapshot = nil  // Unshared while changed, so the sets are not copied.
        snapshot.noteRead(record.id)
        index.put(record)
        self.snapshot = snapshot
        return true
    }

    /// Applies a log entry to the memory layer, noting the ids it touches for the snapshot's count.
    mutating func applyOverSnapshot(_ entry: LogEntry) {
        if snapshot != nil {
            switch entry {
            case .put(let record): snapshot?.noteTouched(record.id, removed: false)
            case .remove(let id): snapshot?.noteTouched(id, removed: true)
            case .hasher: break
            }
        }
        index.apply(entry)
    }

    /// Runs `body`; if it throws, and a snapshot is read through an index file, reads the whole log
    /// instead of the index file and runs `body` again.
    mutating func withSnapshotFallback<T>(
        _ body: (inout Self) throws(TokenKitError) -> T
    ) throws(TokenKitError) -> T {
        do {
            return try body(&self)
        } catch {
            guard snapshot != nil else { throw error }
            try readWholeLog()
            return try body(&self)
        }
    }

    /// Reads every record from the log, up to the commits already applied, in place of the index
    /// file and the memory layer. If that fails, the records are half read: the handle stops.
    mutating func readWholeLog() throws(TokenKitError) {
        do {
            try readWholeLogOnce()
        } catch {
            detached = error
            throw error
        }
    }

    private mutating func readWholeLogOnce() throws(TokenKitError) {
        let (end, sequence) = (committedEnd, lastSequence)
        let snapshotEnd = try FileTokenStore.readHeader(of: file, path: file.path).snapshotEnd
        var scanner = LogScanner(file: file, end: end, snapshotEnd: snapshotEnd)
        index = TokenIndex()
        snapshot = nil
        logEntries = 0
        committedEnd = StoreFileFormat.headerSize
        lastSequence = 0
        let outcome = try FileTokenStore.readOn(&self, with: &scanner, through: sequence)
        guard outcome.committedEnd == end, outcome.lastSequence == sequence else {
            throw TokenKitError(
                .storeCorrupted,
                "The token store \(quoted(file.path)) is damaged at offset \(outcome.committedEnd): it no longer holds what was read from it. Restore it from a backup, or open it with recovery: .salvageIntactRecords."
            )
        }
    }
}
