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
        lockFile: POSIXFile,
        options: Options
    ) throws(TokenKitError) {
        let header = try readHeader(of: state.file, path: path)
        let published = state.shared.durableSequence
        let outcome = try readGroups(
            into: &state,
            header: header,
            to: try state.file.status().size,
            through: readableSequence(published)
        )
        guard outcome.stop != .end || state.lastSequence != published || header.version < StoreFileFormat.version
        else { return }

        // The end of the file is not a complete published group — a write cut short or under way
        // in another process, a commit whose process died before publishing it, or damage — or the
        // lock file does not know the file's last group. Decide under the writers' lock, where
        // nobody is writing.
        try acquire(lockFile, timeout: options.lockTimeout, path: path)
        defer { lockFile.unlock() }
        // Another process may have compacted the store while this one waited for the lock.
        if let current = POSIXFile.status(atPath: path), !current.isSameFile(as: state.fileStatus) {
            try reload(&state, path: path)
        }
        let size = try state.file.status().size
        var scanner = LogScanner(file: state.file, end: size)
        // Every complete group counts: the lock page is not synced, so after a power loss it can lag
        // behind groups whose calls returned. A group whose commit failed was cut off by its writer.
        let rest = try readOn(&state, with: &scanner, through: .max)
        if let offset = rest.problemOffset, try scanner.laterGroupExists(after: offset, sequence: rest.lastSequence) {
            guard options.recovery == .salvageIntactRecords else { throw corrupted(path, at: offset) }
            try salvage(&state, report: &report, path: path)
            return
        }
        if rest.stop != .end {
            report.discardedTailBytes = size - state.committedEnd
            try state.file.truncate(to: state.committedEnd)
        }
        // A file of an older format version is marked as this one before anything of this
        // version is written to it, so that older releases refuse it rather than misread it.
        let current = try readHeader(of: state.file, path: path)
        if current.version < StoreFileFormat.version {
            var upgraded = current
            upgraded.version = StoreFileFormat.version
            try state.file.write(upgraded.encoded(), at: 0)
        }
        // The file, read under the lock, is the truth: sync it, then publish its last group.
        try state.file.synchronize()
        if state.shared.durableSequence != state.lastSequence {
            state.seenChange = state.shared.publish(sequence: state.lastSequence)
        }
    }

    /// Reads the file now at `path` from scratch, in place of the one `state` has open.
    static func reload(_ state: inout State, path: String) throws(TokenKitError) {
        state.file = try POSIXFile(openingExisting: path)
        state.fileStatus = try state.file.status()
        state.index = TokenIndex()
        state.logEntries = 0
        let header = try readHeader(of: state.file, path: path)
        try readGroups(into: &state, header: header, to: state.fileStatus.size, through: .max)
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

    /// Reads every complete group of `state.file` from its start, up to `durableSequence`, into an
    /// empty index.
    @discardableResult
    static func readGroups(
        into state: inout State,
        header: StoreFileFormat.Header,
        to end: Int,
        through durableSequence: UInt64
    ) throws(TokenKitError) -> LogScanner.Outcome {
        var scanner = LogScanner(file: state.file, end: end)
        // A put entry takes at least about 80 bytes, so this never reserves too little.
        state.index.reserveCapacity(max(0, (end - StoreFileFormat.headerSize) / 80))
        state.committedEnd = StoreFileFormat.headerSize
        state.lastSequence = 0
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
        ) { entries in
            for entry in entries { state.index.apply(entry) }
            state.logEntries += entries.count
        }
        state.committedEnd = outcome.committedEnd
        state.lastSequence = outcome.lastSequence
        return outcome
    }

    static func corrupted(_ path: String, at offset: Int) -> TokenKitError {
        TokenKitError(
            .storeCorrupted,
            "The token store \(quoted(path)) is damaged at offset \(offset), before its last complete write. Restore it from a backup, or open it with recovery: .salvageIntactRecords to keep every intact record and move the damaged file aside."
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
            let outcome = try scanner.scan(from: offset, after: lastSequence) { entries in
                for entry in entries { index.apply(entry) }
            }
            lastSequence = outcome.lastSequence
            guard let damage = outcome.problemOffset, let next = try scanner.nextGroupStart(after: damage)
            else {
                skipped += size - outcome.committedEnd
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
        let compacted = try writeSnapshot(
            sequence: sequence,
            path: path,
            hasher: index.hasher,
            slotCount: index.slotCount
        ) {
            index.records(inSlots: $0)
        }
        state.index = index
        state.file = compacted.file
        state.fileStatus = try compacted.file.status()
        state.committedEnd = compacted.end
        state.lastSequence = sequence
        state.logEntries = index.count
        state.seenChange = state.shared.publish(sequence: sequence)
        report.damagedFileMovedTo = aside
        report.skippedDamagedBytes = skipped
    }

    // MARK: Catching up

    /// Applies the groups other processes have committed since this process last looked.
    ///
    /// Without the writers' lock, only groups published as durable are applied: a group may be
    /// half written or not yet durable, so such a tail is left for later. With the lock nobody is
    /// writing: a complete group not yet published is one whose process died between its sync and
    /// publishing it, and is synced and published; a torn tail is cut off; and damage followed by
    /// a later commit is reported as corruption.
    func catchUp(_ state: inout State, holdingLock: Bool) throws(TokenKitError) {
        if let current = POSIXFile.status(atPath: path), !current.isSameFile(as: state.fileStatus) {
            try switchToReplacement(&state)
        }
        let size = try state.file.status().size
        let end = min(size, state.appendingFrom ?? size)
        guard end > state.committedEnd else { return }
        var scanner = LogScanner(file: state.file, end: end)
        let published = state.shared.durableSequence
        let outcome = try Self.readOn(
            &state,
            with: &scanner,
            through: holdingLock ? .max : Self.readableSequence(published)
        )
        guard holdingLock else { return }
        if state.lastSequence > published {
            try state.file.synchronize()
            state.seenChange = state.shared.publish(sequence: state.lastSequence)
        }
        guard outcome.stop != .end else { return }
        if let offset = outcome.problemOffset,
            try scanner.laterGroupExists(after: offset, sequence: outcome.lastSequence)
        {
            throw Self.corrupted(path, at: offset)
        }
        try state.file.truncate(to: state.committedEnd)
        try state.file.synchronize()
    }

    /// Moves to the compacted file another process renamed over ours.
    ///
    /// The old file gets no writes after the rename, so once it is read to its end this process
    /// holds exactly the snapshot the new file starts with, and can read on from the snapshot's
    /// end. If it does not (it missed something), it reloads the new file from scratch.
    private func switchToReplacement(_ state: inout State) throws(TokenKitError) {
        let oldEnd = try state.file.status().size
        var scanner = LogScanner(file: state.file, end: oldEnd)
        let durable = Self.readableSequence(state.shared.durableSequence)
        let outcome = try scanner.scan(from: state.committedEnd, after: state.lastSequence, through: durable) {
            entries in
            for entry in entries { state.index.apply(entry) }
        }
        let file = try POSIXFile(openingExisting: path)
        let header = try Self.readHeader(of: file, path: path)
        state.file = file
        state.fileStatus = try file.status()
        if header.snapshotSequence == outcome.lastSequence && header.snapshotSequence > 0 {
            state.committedEnd = header.snapshotEnd
            state.lastSequence = header.snapshotSequence
            state.logEntries = state.index.count
        } else {
            state.index = TokenIndex()
            state.logEntries = 0
            try Self.readGroups(into: &state, header: header, to: state.fileStatus.size, through: durable)
        }
    }

    static func directory(of path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }
}
