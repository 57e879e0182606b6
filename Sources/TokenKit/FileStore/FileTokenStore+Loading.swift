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
    // MARK: Opening

    /// Creates an empty store at `path` unless a file is there, without a moment in which a
    /// half-written header could be seen: the header is written and synced under a temporary
    /// name, then linked into place.
    static func createIfAbsent(_ path: String) throws(TokenKitError) {
        guard POSIXFile.status(atPath: path) == nil else { return }
        let temporary = "\(path).creating-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { POSIXFile.remove(temporary) }
        let file = try POSIXFile(creatingFresh: temporary)
        try file.write(StoreFileFormat.Header.empty.encoded(), at: 0)
        try file.synchronize()
        if try POSIXFile.linkIfAbsent(temporary, at: path) {
            try POSIXFile.synchronizeDirectory(directory(of: path))
        }
    }

    /// Refuses what is not a private regular file.
    static func checkFile(_ status: POSIXFile.Status, path: String, options: Options) throws(TokenKitError) {
        guard status.isRegularFile else {
            throw TokenKitError(
                .storageFailure,
                "\(quoted(path)) is not a regular file; give the path of a token store file."
            )
        }
        if status.isSharedWithOthers && !options.allowInsecurePermissions {
            let mode = String(status.mode & 0o777, radix: 8)
            throw TokenKitError(
                .insecurePermissions,
                "\(quoted(path)) can be read or written by other users (mode \(mode)); run `chmod 600 \(path)`, or open it with allowInsecurePermissions if that is intended."
            )
        }
    }

    /// Reads the whole store into `state`, then repairs a torn tail, publishes complete groups the
    /// lock file does not know, or handles damage.
    static func load(
        _ state: inout State,
        report: inout OpenReport,
        path: String,
        lockFile: POSIXFile?,
        options: Options
    ) throws(TokenKitError) {
        let header = try readHeader(of: state.file, path: path)
        let published = state.shared.durableSequence
        let outcome: LogScanner.Outcome
        do {
            outcome = try readGroups(
                into: &state,
                header: header,
                to: try state.file.status().size,
                through: readableSequence(published),
                // Salvage must see every batch, so it reads the whole log.
                usingIndexFile: options.recovery == .refuse
            )
        } catch {
            // Intact batches that contradict each other: salvage keeps the consistent records.
            guard error.code == .storeCorrupted, options.recovery == .salvageIntactRecords,
                options.access == .readWrite, let lockFile
            else { throw error }
            try acquire(lockFile, timeout: options.lockTimeout, path: path)
            defer { lockFile.unlock() }
            try salvage(&state, report: &report, path: path)
            return
        }
        // Zeros after the last group are the log's preallocated space when the shared page says
        // that group is the last durable one. Otherwise (the page is new, as after a restart) they
        // are checked under the lock: they must not hide a later commit.
        let endsAtZeros = outcome.stop.isZeros(after: header.snapshotEnd)
        let cleanEnd = outcome.stop == .end || (endsAtZeros && published != 0)
        guard !cleanEnd || state.lastSequence != published || header.version < StoreFileFormat.version
        else { return }
        guard let lockFile, options.access == .readWrite else {
            // Read-only: nothing may be repaired or published. Damage before a later commit is
            // still corruption; anything else at the end is left unread. A handle behind the
            // durable sequence (a compaction replaced the file since it was opened) catches up at
            // its first call rather than within a second.
            if state.lastSequence < published { state.identityCheckedAt = .now - identityCheckInterval }
            if endsAtZeros {
                try checkZerosReadOnly(outcome, published: published, state: state, header: header, path: path)
                return
            }
            var scanner = LogScanner(
                file: state.file,
                end: try state.file.status().size,
                snapshotEnd: header.snapshotEnd
            )
            if let corruption = try scanner.corruption(in: outcome) { throw corrupted(path, corruption) }
            return
        }

        // The end of the file is not a complete published group — a write cut short or under way
        // in another process, a commit whose process died before publishing it, or damage — or the
        // lock file does not know the file's last group. Decide under the writers' lock, where
        // nobody is writing.
        try acquire(lockFile, timeout: options.lockTimeout, path: path)
        defer { lockFile.unlock() }
        // Another process may have compacted the store while this one waited for the lock.
        if let current = POSIXFile.status(atPath: path), !current.isSameFile(as: state.fileStatus) {
            try reload(&state, path: path, options: options)
        }
        let size = try state.file.status().size
        let snapshotEnd = try readHeader(of: state.file, path: path).snapshotEnd
        var scanner = LogScanner(file: state.file, end: size, snapshotEnd: snapshotEnd)
        // Every complete group counts: the lock page is not synced, so after a power loss it can lag
        // behind groups whose calls returned. A group whose commit failed was cut off by its writer.
        let rest = try readOn(&state, with: &scanner, through: .max)
        if let corruption = try scanner.corruption(in: rest) {
            guard options.recovery == .salvageIntactRecords else { throw corrupted(path, corruption) }
            try salvage(&state, report: &report, path: path)
            return
        }
        // Zeros that hide no commit are preallocated space, and stay. (Bytes after them, of a write
        // cut short, stay too: a writer overwrites them, and a scan that meets them after a later
        // commit takes them for a write cut short.)
        if rest.stop != .end, !rest.stop.isZeros(after: snapshotEnd) {
            report.discardedTailBytes = size - state.committedEnd
            try state.file.truncate(to: state.committedEnd)
        }
        try markAsCurrentVersion(state.file, path: path)
        // The file, read under the lock, is the truth: sync it, then publish its last group.
        try state.file.synchronize()
        if state.shared.durableSequence != state.lastSequence {
            state.seenChange = state.shared.publish(sequence: state.lastSequence)
        }
    }

    /// Checks, for a read-only open, that the zeros the scan stopped at hide no commit.
    ///
    /// With a durable sequence published, zeros where a commit published before the scan began
    /// should be are damage (unless a compaction replaced the file meanwhile: catch-up follows
    /// it). Zeros after the last published commit are not searched, as a writer may be committing
    /// into them. With none published (a new shared page, as after a restart), no writer has
    /// committed since the page was made, so a later commit after the zeros makes them damage,
    /// unless a writer published meanwhile, or committed into the zeros (its open checked them
    /// under the lock, and this handle's catch-up stops serving if it then lacks a published
    /// commit). The zeros are read again for a handle without a shared page, which sees no writer
    /// publish.
    private static func checkZerosReadOnly(
        _ outcome: LogScanner.Outcome,
        published: UInt64,
        state: State,
        header: StoreFileFormat.Header,
        path: String
    ) throws(TokenKitError) {
        guard let offset = outcome.problemOffset else { return }
        if published != 0 {
            guard state.lastSequence < published,
                POSIXFile.status(atPath: path)?.isSameFile(as: state.fileStatus) == true
            else { return }
            throw corrupted(path, LogScanner.Corruption(offset: offset, isUndecodable: false))
        }
        var scanner = LogScanner(file: state.file, end: try state.file.status().size, snapshotEnd: header.snapshotEnd)
        guard let corruption = try scanner.corruption(in: outcome), state.shared.durableSequence == 0 else { return }
        // A fresh scanner, so the zeros are read from the file again, not from the search's window.
        var again = LogScanner(file: state.file, end: try state.file.status().size)
        guard try again.isZeroHeader(at: offset) else { return }
        throw corrupted(path, corruption)
    }

    /// Marks a file of an older format version as this one, before anything of this version is
    /// written to it, so that older releases refuse it rather than misread it (preallocated zeros
    /// taken for a commit cut short). Call holding the writers' lock; the caller syncs.
    static func markAsCurrentVersion(_ file: POSIXFile, path: String) throws(TokenKitError) {
        var header = try readHeader(of: file, path: path)
        guard header.version < StoreFileFormat.version else { return }
        header.version = StoreFileFormat.version
        try file.write(header.encoded(), at: 0)
    }

    /// Reads the file now at `path` from scratch, in place of the one `state` has open.
    static func reload(_ state: inout State, path: String, options: Options) throws(TokenKitError) {
        state.file = try POSIXFile(openingExisting: path)
        state.fileStatus = try state.file.status()
        let header = try readHeader(of: state.file, path: path)
        try readGroups(
            into: &state,
            header: header,
            to: state.fileStatus.size,
            through: .max,
            usingIndexFile: options.recovery == .refuse
        )
    }

    /// The last group a reader may apply: the published durable sequence, or, while none is
    /// published (a new lock file, before any process has opened the store with it), every group.
    static func readableSequence(_ published: UInt64) -> UInt64 {
        published == 0 ? .max : published
    }

    static func readHeader(of file: POSIXFile, path: String) throws(TokenKitError) -> StoreFileFormat.Header {
        let bytes = try file.read(count: StoreFileFormat.headerSize, at: 0)
        return try bytes.withUnsafeBytes { buffer in
            Result { () throws(TokenKitError) in try StoreFileFormat.Header.decode(buffer, path: path) }
        }.get()
    }

    /// Reads every complete group of `state.file`, up to `durableSequence`, in place of what
    /// `state` held: from the file's start, or, when `usingIndexFile` and the index file describes
    /// the file's snapshot, from the snapshot's end, the snapshot staying on disk.
    @discardableResult
    static func readGroups(
        into state: inout State,
        header: StoreFileFormat.Header,
        to end: Int,
        through durableSequence: UInt64,
        usingIndexFile: Bool
    ) throws(TokenKitError) -> LogScanner.Outcome {
        var scanner = LogScanner(file: state.file, end: end, snapshotEnd: header.snapshotEnd)
        state.index = TokenIndex()
        state.snapshot = nil
        let indexFile =
            usingIndexFile
            ? IndexFile.open(
                path: IndexFile.path(forStore: state.file.path),
                log: state.file,
                logHeader: header
            ) : nil
        if let indexFile {
            state.snapshot = IndexedSnapshot(file: indexFile)
            state.index.hasher = indexFile.header.hasher
            state.committedEnd = header.snapshotEnd
            state.lastSequence = header.snapshotSequence
            state.logEntries = indexFile.header.recordCount
        } else {
            // A put entry takes at least about 80 bytes, so this never reserves too little.
            state.index.reserveCapacity(max(0, (end - StoreFileFormat.headerSize) / 80))
            state.committedEnd = StoreFileFormat.headerSize
            state.lastSequence = 0
            state.logEntries = 0
        }
        return try readOn(&state, with: &scanner, through: durableSequence)
    }

    /// Applies the complete groups after `state.committedEnd`, up to `durableSequence`, and moves
    /// the committed end and the sequence past them.
    static func readOn(
        _ state: inout State,
        with scanner: inout LogScanner,
        through durableSequence: UInt64
    ) throws(TokenKitError) -> LogScanner.Outcome {
        let outcome = try scanner.scan(
            from: state.committedEnd,
            after: state.lastSequence,
            through: durableSequence
        ) { (entries, groupStart) throws(TokenKitError) in
            try apply(entries, to: &state, groupStart: groupStart)
            state.logEntries += entries.count
        }
        state.committedEnd = outcome.committedEnd
        state.lastSequence = outcome.lastSequence
        return outcome
    }

    /// Applies a group's entries read from the file, refusing an entry that would make the index
    /// inconsistent (``TokenIndex/conflict(with:)``) as corruption. Over a snapshot read through
    /// an index file, the check covers the records in memory: those the log's tail wrote, and
    /// those read from the snapshot so far.
    static func apply(
        _ entries: [LogEntry],
        to state: inout State,
        groupStart: Int
    ) throws(TokenKitError) {
        for entry in entries {
            if let conflict = state.index.conflict(with: entry) {
                throw TokenKitError(
                    .storeCorrupted,
                    "The token store \(quoted(state.file.path)) is corrupt in the write at offset \(groupStart): \(conflict). Restore it from a backup, or open it with recovery: .salvageIntactRecords to keep every consistent record."
                )
            }
            state.applyOverSnapshot(entry)
        }
    }

    static func corrupted(_ path: String, _ corruption: LogScanner.Corruption) -> TokenKitError {
        let what =
            corruption.isUndecodable
            ? "holds a complete write at offset \(corruption.offset) that this version of TokenKit cannot read (corruption, or a newer TokenKit wrote it: then upgrade TokenKit)"
            : "is damaged at offset \(corruption.offset), before its last complete write"
        return TokenKitError(
            .storeCorrupted,
            "The token store \(quoted(path)) \(what). Restore it from a backup, or open it with recovery: .salvageIntactRecords to keep every intact record and move the damaged file aside."
        )
    }

    // MARK: Salvage

    /// Keeps every intact group, skipping damaged stretches; moves the damaged file aside and
    /// writes a clean store in its place. Runs under the writers' lock.
    static func salvage(_ state: inout State, report: inout OpenReport, path: String) throws(TokenKitError) {
        let size = try state.file.status().size
        var scanner = LogScanner(file: state.file, end: size)
        var index = TokenIndex()
        var offset = StoreFileFormat.headerSize
        var lastSequence: UInt64 = 0
        var skipped = 0
        while offset < size {
            let outcome = try scanner.scan(from: offset, after: lastSequence) { entries, _ in
                // Salvage keeps what is consistent: an entry that conflicts with the records
                // before it is damage like any other.
                for entry in entries where index.conflict(with: entry) == nil { index.apply(entry) }
            }
            lastSequence = outcome.lastSequence
            guard let damage = outcome.problemOffset, let next = try scanner.nextGroupStart(after: damage)
            else {
                // Zeros at the end are preallocated space, not damage.
                skipped += try endOfData(in: state.file, from: outcome.committedEnd, to: size) - outcome.committedEnd
                break
            }
            skipped += next - outcome.committedEnd
            offset = next
            // Sequence numbers after a damaged stretch are taken as they come.
            lastSequence = 0
        }

        let aside = "\(path).damaged-\(Int(Date().timeIntervalSince1970))"
        guard try POSIXFile.linkIfAbsent(path, at: aside) else {
            throw TokenKitError(
                .storageFailure,
                "Could not keep the damaged store at \(quoted(aside)): a file is already there."
            )
        }
        let sequence = max(lastSequence, state.lastSequence) + 1
        var reader = SnapshotRecordReader(memory: index, snapshot: nil)
        let compacted = try writeSnapshot(sequence: sequence, path: path, hasher: index.hasher) {
            () throws(TokenKitError) -> [TokenRecord]? in try reader.next()
        }
        state.index = index
        state.snapshot = nil
        state.file = compacted.file
        state.fileStatus = try compacted.file.status()
        state.committedEnd = compacted.end
        state.lastSequence = sequence
        state.logEntries = index.count
        state.seenChange = state.shared.publish(sequence: sequence)
        report.damagedFileMovedTo = aside
        report.skippedDamagedBytes = skipped
    }

    /// Where the bytes of `file` from `start` to `end` stop being all zeros: the end of the last
    /// byte that is not zero, or `start` when there is none. Read backwards, a chunk at a time.
    static func endOfData(in file: POSIXFile, from start: Int, to end: Int) throws(TokenKitError) -> Int {
        var chunkEnd = end
        while chunkEnd > start {
            let chunkStart = max(start, chunkEnd - 65_536)
            let bytes = try file.read(count: chunkEnd - chunkStart, at: chunkStart)
            if let last = bytes.lastIndex(where: { $0 != 0 }) { return chunkStart + last + 1 }
            chunkEnd = chunkStart
        }
        return start
    }

    // MARK: Catching up

    /// Applies the groups other processes have committed since this process last looked.
    ///
    /// Without the writers' lock, only groups published as durable are applied: a group may be
    /// half written or not yet durable, so such a tail is left for later. With the lock nobody is
    /// writing: a complete group not yet published is one whose process died between its sync and
    /// publishing it, and is synced and published; a torn tail is cut off; and damage followed by
    /// a later commit is reported as corruption.
    ///
    /// `pathStatus` is the status of the file at the store's path, when the caller has just read
    /// it (``checkIdentity(_:)`` returns it); with `holdingLock`, read under the writers' lock,
    /// since its size is then taken as the file's. Returns the store file's size once caught up.
    func catchUp(
        _ state: inout State,
        holdingLock: Bool,
        pathStatus: POSIXFile.Status? = nil
    ) throws(TokenKitError) -> Int {
        var sizeUnderLock: Int?
        if let current = pathStatus ?? POSIXFile.status(atPath: path) {
            if !current.isSameFile(as: state.fileStatus) {
                try switchToReplacement(&state)
                // An older TokenKit that had the store open may have compacted it into a file of
                // its own version: a writer marks it as this one before preallocating in it.
                if holdingLock {
                    try Self.markAsCurrentVersion(state.file, path: path)
                    try state.file.synchronize()
                }
            } else if holdingLock, pathStatus != nil {
                // The path's status is this file's, just read; with the writers' lock nobody
                // writes meanwhile, so its size needs no `statx` of its own.
                sizeUnderLock = current.size
            }
        }
        // Read before the file: every group up to it was written before it was published. (Under
        // the writers' lock nobody publishes or writes, so a size read earlier is as good.)
        let published = state.shared.durableSequence
        let size: Int
        if let sizeUnderLock { size = sizeUnderLock } else { size = try state.file.status().size }
        guard size >= state.committedEnd else { throw detach(&state, "its file was truncated") }
        let end = min(size, state.appendingFrom ?? size)
        var scanner = LogScanner(file: state.file, end: end)
        let outcome = try Self.readOn(
            &state,
            with: &scanner,
            through: holdingLock ? .max : Self.readableSequence(published)
        )
        // A whole batch this version cannot decode is corruption, whoever reads it.
        if case .undecodable(let offset) = outcome.stop {
            throw Self.corrupted(path, LogScanner.Corruption(offset: offset, isUndecodable: true))
        }
        // A file at the path that lacks a published commit is an older copy put in its place (a
        // compaction meanwhile would have moved the path to another file).
        if state.lastSequence < published, state.appendingFrom == nil,
            POSIXFile.status(atPath: path)?.isSameFile(as: state.fileStatus) == true
        {
            throw detach(&state, "its file lacks commits already acknowledged (an older copy was put in its place)")
        }
        guard holdingLock else { return size }
        if state.lastSequence > published {
            try state.file.synchronize()
            state.seenChange = state.shared.publish(sequence: state.lastSequence)
        }
        guard outcome.stop != .end else { return size }
        // Zeros after the last group are preallocated space. (Zeros over a durable commit leave
        // this handle behind the published sequence, which detaches it above.)
        if case .zeros = outcome.stop { return size }
        if let corruption = try scanner.corruption(in: outcome) { throw Self.corrupted(path, corruption) }
        try state.file.truncate(to: state.committedEnd)
        try state.file.synchronize()
        return state.committedEnd
    }

    /// Moves to the compacted file another process renamed over ours.
    ///
    /// The old file gets no writes after the rename, so once it is read to its end this process
    /// holds exactly the snapshot the new file starts with — the snapshot's sequence is the old
    /// file's last — and reads on from the snapshot's end; after several compactions the snapshot
    /// is later still, and the new file is read afresh. No file at the path, or one whose snapshot
    /// is older than what this process read (a copy put in its place), detaches the handle:
    /// serving on could accept revoked tokens or lose writes.
    private func switchToReplacement(_ state: inout State) throws(TokenKitError) {
        let oldEnd = try state.file.status().size
        var scanner = LogScanner(file: state.file, end: oldEnd)
        let durable = Self.readableSequence(state.shared.durableSequence)
        let outcome = try scanner.scan(from: state.committedEnd, after: state.lastSequence, through: durable) {
            (entries, groupStart) throws(TokenKitError) in
            try Self.apply(entries, to: &state, groupStart: groupStart)
        }
        state.committedEnd = outcome.committedEnd
        state.lastSequence = outcome.lastSequence
        guard POSIXFile.status(atPath: path) != nil else { throw detach(&state, "its file was deleted") }
        let file = try options.access == .readOnly ? POSIXFile(readingExisting: path) : POSIXFile(openingExisting: path)
        let header = try Self.readHeader(of: file, path: path)
        guard header.snapshotSequence >= outcome.lastSequence, header.snapshotSequence > 0 else {
            throw detach(&state, "its file was replaced by an older copy")
        }
        state.file = file
        state.fileStatus = try file.status()
        let usingIndexFile = options.recovery == .refuse
        if header.snapshotSequence == outcome.lastSequence {
            state.committedEnd = header.snapshotEnd
            state.lastSequence = header.snapshotSequence
            if usingIndexFile,
                let indexFile = IndexFile.open(path: IndexFile.path(forStore: path), log: file, logHeader: header)
            {
                // The new snapshot holds exactly what this handle read: serve it through its index
                // file, and give back the memory the old records took.
                let hasher = state.index.hasher
                state.index = TokenIndex()
                state.index.hasher = hasher
                state.snapshot = IndexedSnapshot(file: indexFile)
            }
            // Otherwise the old snapshot, if read through its index file, stays readable: the
            // descriptors keep the old files.
            state.logEntries = try state.recordCount()
        } else {
            // Compacted more than once since this process last looked: read the new file afresh.
            try Self.readGroups(
                into: &state,
                header: header,
                to: state.fileStatus.size,
                through: durable,
                usingIndexFile: usingIndexFile
            )
        }
    }

    // MARK: Identity

    /// Checks that the files this handle reads are still the ones at the store's paths: the lock
    /// file (never replaced by TokenKit) must be the one this handle locks and maps, and a store
    /// file must exist (a compaction's replacement is followed by
    /// ``catchUp(_:holdingLock:pathStatus:)``).
    /// Writers check before every commit, readers at least once a second. Returns the status of
    /// the file at the store's path, for ``catchUp(_:holdingLock:pathStatus:)``.
    func checkIdentity(_ state: inout State) throws(TokenKitError) -> POSIXFile.Status {
        if let detached = state.detached { throw detached }
        if let lockStatus = state.lockStatus {
            guard let current = POSIXFile.status(atPath: path + ".lock") else {
                throw detach(&state, "its lock file was deleted")
            }
            guard current.isSameFile(as: lockStatus) else { throw detach(&state, "its lock file was replaced") }
        }
        guard let current = POSIXFile.status(atPath: path) else { throw detach(&state, "its file was deleted") }
        guard state.shared.isStillShared else {
            throw detach(&state, "its shared memory page was removed (by `rm /dev/shm/tk…` or systemd's RemoveIPC)")
        }
        return current
    }

    /// Stops this handle: every later call throws the returned error.
    func detach(_ state: inout State, _ what: String) -> TokenKitError {
        let error = TokenKitError(
            .storeReplaced,
            "The token store \(quoted(path)) changed while it was open: \(what). This handle has stopped serving, so as not to accept revoked tokens or lose writes; reopen the store (restore the file from a backup if it was lost)."
        )
        state.detached = error
        return error
    }

    // MARK: Removing

    /// Deletes a store for good: its file, its index file, its lock file and its shared memory page (which would
    /// otherwise stay until the machine restarts). No process may have the store open; an
    /// application that makes and deletes many stores should delete them with this.
    ///
    /// - Throws: ``TokenKitError`` when a file exists and cannot be deleted.
    public static func removeStore(atPath path: String) throws(TokenKitError) {
        let lockPath = path + ".lock"
        let indexPath = IndexFile.path(forStore: path)
        if POSIXFile.status(atPath: indexPath) != nil {
            try POSIXFile.removeExisting(indexPath)
        }
        if let lock = POSIXFile.status(atPath: lockPath) {
            _ = shm_unlink(SharedPage.name(for: lock))  // absent already: nothing to remove
            try POSIXFile.removeExisting(lockPath)
        }
        if POSIXFile.status(atPath: path) != nil {
            try POSIXFile.removeExisting(path)
        }
    }

    static func directory(of path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }
}
