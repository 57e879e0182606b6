import Dispatch
import Foundation
import Synchronization

/// A ``TokenStore`` in one file: durable, crash-safe, and shared by every process that opens it.
///
/// ```swift
/// let store = try FileTokenStore(path: "/var/lib/myserver/tokens.tkstore")
/// let manager = TokenManager(store: store)
/// ```
///
/// - **Durable.** A mutating call returns only once its change is on stable storage. Calls that
///   arrive together share one `fdatasync` (group commit). Nobody — in this process or another —
///   sees a change before it is on stable storage, and a failed sync changes nothing anyone saw.
///   Groups are committed on a writer queue of the store's own. A write that finds the store idle
///   is committed on the calling task's thread instead, saving two thread hand-offs, when the last
///   sync took at most 1 ms, the task runs on Swift's global executor, and there is little to read
///   first: that thread is blocked for one sync, as a call into SQLite would block it.
/// - **Crash-safe.** The file is an append-only log of checksummed batches. After `kill -9` or a
///   power loss the store opens with every change whose call had returned; a write cut short is
///   discarded. Damage anywhere else stops `init` with a ``TokenKitError/Code/storeCorrupted``
///   error naming the offset, unless ``Options/recovery`` asks to salvage. (A store opened from
///   its index file reads the last compaction's records only when needed: damage among them is
///   found then, and stops the handle with that error; the next open without salvage opens again,
///   until it reaches the damaged record.)
/// - **Shared.** Servers and command-line tools may open the same file at once. Writers take an
///   advisory lock on `<path>.lock` (with ``Options/lockTimeout``); every call first picks up other
///   processes' changes, so a token revoked elsewhere is refused by the very next validation.
/// - **Fast.** Compaction writes an index file beside the log (`<path>.index`), so opening reads
///   only what was written since, and a record is read from disk the first time a call needs it;
///   then it lives in memory. A look-up checks a change counter in shared memory and reads the
///   disk only when another process has written. A store never compacted opens by reading its
///   whole log ("The file store's format" has the figures).
/// - **Guarded.** If the store file or `<path>.lock` is deleted or replaced while open (or an older
///   copy is put in place), a writer refuses its next write at once and every other handle stops
///   within a second, with ``TokenKitError/Code/storeReplaced``: reopen the store. A handle opened
///   with ``Options/Access/readOnly`` validates and lists without write access.
/// - **Private.** The file is created with mode 0600, and a file group or others may read or
///   write is refused unless ``Options/allowInsecurePermissions`` is set.
///
/// Dead entries (replaced or removed records) are compacted away: the live records are written to
/// a new file with its index file, which are synced and renamed over the old ones, while readers go
/// on being served; ``compact()`` does it at once. A
/// failed compaction changes nothing, is retried with backoff, and is reported by
/// ``performMaintenance()``, which ``TokenManager/run()`` calls.
///
/// `init` blocks while it reads the file; open stores at start-up.
public final class FileTokenStore: TokenStore, IndexedTokenStore {
    /// The path of the store file.
    public let path: String
    /// The options the store was opened with.
    public let options: Options
    /// What opening the store found and did.
    public let openReport: OpenReport

    /// The `.lock` file: its `flock` serialises writers across processes. `nil` only for a read-only
    /// handle on a store without one.
    let lockFile: POSIXFile?
    /// Everything the store knows, behind one lock.
    let state: Mutex<State>
    /// Writes and compactions waiting for the thread that drains them.
    let queue = Mutex(WriteQueue())
    /// The serial queue that commits groups of writes and compacts, so that waiting for the lock,
    /// long syncs and compactions stay off Swift's cooperative pool. (A write that finds the store
    /// idle, when syncs are quick, is committed on its caller's thread: see `commit`.)
    let writerQueue = DispatchQueue(label: "TokenKit.FileTokenStore.writer")
    /// How compaction has fared, for ``performMaintenance()``.
    let compaction = Mutex(CompactionHealth())
    /// A failure the next commit's sync reports instead of syncing: tests only.
    let injectedSyncFailure = Mutex<TokenKitError?>(nil)

    /// The store's in-memory state.
    struct State {
        /// The records in memory: with ``snapshot``, those the log's tail changed and those read so
        /// far; without, every record.
        var index = TokenIndex()
        /// The last compaction's records, through its index file, when the store opened from one
        /// and has not needed to read them all.
        var snapshot: IndexedSnapshot?
        /// The file being read and appended to.
        var file: POSIXFile
        /// Its identity, to notice a compacted file renamed over it.
        var fileStatus: POSIXFile.Status
        /// The end of the last complete group read or written.
        var committedEnd: Int
        /// The sequence number of that group.
        var lastSequence: UInt64
        /// Log entries in the file, live or dead, to decide when to compact.
        var logEntries: Int
        /// The shared change counter as last seen.
        var seenChange: UInt64
        /// Where a write of this process is being appended; catch-up must not read past it.
        var appendingFrom: Int?
        /// Set when a failed write could not be undone: every later write fails with it.
        var writesRefused: TokenKitError?
        /// Set when the files at the store's paths are no longer this handle's (deleted or replaced),
        /// or a file turned out corrupt while open: every later call fails with it.
        var detached: TokenKitError?
        /// The lock file's identity, to notice it deleted or replaced; `nil` when a read-only handle
        /// found none.
        let lockStatus: POSIXFile.Status?
        /// When ``FileTokenStore/checkIdentity(_:)`` last ran for a reader.
        var identityCheckedAt: ContinuousClock.Instant
        /// The shared page of change counter and durable sequence.
        let shared: SharedPage
    }

    /// Opens the store at `path`, creating it (mode 0600) if it does not exist.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/insecurePermissions``,
    ///   ``TokenKitError/Code/storeCorrupted``, ``TokenKitError/Code/storeLocked`` or
    ///   ``TokenKitError/Code/storageFailure``, each with a message that says what to do.
    public init(path: String, options: Options = Options()) throws(TokenKitError) {
        self.path = path
        self.options = options
        let readOnly = options.access == .readOnly
        if !readOnly { try Self.createIfAbsent(path) }
        let file = try readOnly ? POSIXFile(readingExisting: path) : POSIXFile(openingExisting: path)
        let status = try file.status()
        try Self.checkFile(status, path: path, options: options)
        let lockPath = path + ".lock"
        if readOnly {
            lockFile = POSIXFile.status(atPath: lockPath) == nil ? nil : try POSIXFile(readingExisting: lockPath)
        } else {
            lockFile = try POSIXFile(openingOrCreating: lockPath)
        }
        let lockStatus = try lockFile?.status()
        if let lockFile, let lockStatus { try Self.checkFile(lockStatus, path: lockFile.path, options: options) }
        let shared: SharedPage
        if let lockFile {
            shared = try SharedPage(lockFile: lockFile, readOnly: readOnly)
        } else {
            shared = try SharedPage(privateFor: path)
        }
        var state = State(
            file: file,
            fileStatus: status,
            committedEnd: StoreFileFormat.headerSize,
            lastSequence: 0,
            logEntries: 0,
            seenChange: shared.changeCounter,
            lockStatus: lockStatus,
            identityCheckedAt: .now,
            shared: shared
        )
        var report = OpenReport(
            recordsLoaded: 0,
            discardedTailBytes: 0,
            damagedFileMovedTo: nil,
            skippedDamagedBytes: 0
        )
        try Self.load(&state, report: &report, path: path, lockFile: lockFile, options: options)
        report.recordsLoaded = state.index.count
        report.openedFromIndexFile = state.snapshot != nil
        self.openReport = report
        self.state = Mutex(state)
    }

    /// The number of records held, of every status.
    public var count: Int {
        get throws {
            try state.withLock { (state) throws(TokenKitError) -> Int in
                try refresh(&state)
                return try state.recordCount()
            }
        }
    }

    /// The sequence number of the last commit: how many groups have been committed.
    var commitCount: UInt64 { state.withLock { $0.lastSequence } }

    /// The log entries in the file, live or dead.
    var logEntryCount: Int { state.withLock { $0.logEntries } }

    /// How many writes their callers' threads committed, or tried to, rather than the writer queue.
    var callingThreadCommitCount: Int { queue.withLock { $0.callingThreadCommits } }

    /// Returns once every write queued before it, and any compaction they started, has finished.
    func waitUntilIdle() async throws {
        try await commit { _ in IndexPlan(entries: [], answer: ()) }
    }

    // MARK: Look-ups

    /// The record with `digest`, from memory, after picking up other processes' changes.
    public func record(forDigest digest: TokenDigest) throws -> TokenRecord? {
        try read(.digest(digest)) { $0.record(forDigest: digest) }
    }

    /// The record with `digest`, at once: reading the store never suspends (it reads the shared
    /// change counter, and the log's new entries when another process wrote).
    public func immediateRecord(forDigest digest: TokenDigest) throws -> ImmediateLookup {
        try record(forDigest: digest).map(ImmediateLookup.found) ?? .notFound
    }

    func immediateValidation(
        of digest: TokenDigest,
        _ request: ValidationRequest,
        recordingRejections: Bool
    ) throws -> IndexValidation {
        try state.withLock { (state) throws(TokenKitError) -> IndexValidation in
            try refresh(&state)
            let answer = state.index.validate(digest: digest, request, recordingRejections: recordingRejections)
            guard case .notFound = answer, state.snapshot != nil else { return answer }
            try state.read(.digest(digest))
            return state.index.validate(digest: digest, request, recordingRejections: recordingRejections)
        }
    }

    /// The record with `id`.
    public func record(id: TokenID) throws -> TokenRecord? {
        try read(.ids([id], withTheirOwners: false)) { $0.record(id: id) }
    }

    /// The owner's records of every status, oldest first.
    public func records(owner: String) throws -> [TokenRecord] {
        try read(.owner(owner)) { $0.records(owner: owner) }
    }

    /// The records that expire between `start` and `end`, soonest first.
    ///
    /// A store opened from its index file searches the snapshot in its log, without keeping the
    /// snapshot's records in memory or keeping other calls waiting. The search runs on a thread of
    /// Dispatch's, not the caller's: at a million tokens it reads for a tenth of a second or more.
    public func records(expiringBetween start: Date, and end: Date) async throws -> [TokenRecord] {
        try await offTheCallersThread {
            let search = try self.searchEveryRecord(includingMemory: true) {
                TokenStoreRules.isExpiring($0, between: start, and: end)
            }
            guard let search else { return try self.read(.all) { $0.records(expiringBetween: start, and: end) } }
            return (search.snapshotRecords + search.memoryRecords).sorted(by: TokenStoreRules.expiresSooner)
        }
    }

    // MARK: Writes

    /// Records the hasher in the file on first use, or checks it; see ``TokenStore/bindHasher(_:)``.
    /// A store written before hasher identities were recorded gets one at its first use.
    public func bindHasher(_ identity: TokenHasherIdentity) async throws {
        let recorded = try read(.none) { $0.hasher }
        if recorded == identity { return }
        if options.access == .readOnly {
            // A read-only handle cannot record a hasher; it can still refuse a different one.
            if let recorded { throw TokenKitError.hasherMismatch(stored: recorded, given: identity) }
            return
        }
        try await commit { try $0.planBindHasher(identity) }
    }

    /// Adds `record` durably; see ``TokenStore/insert(_:maximumLiveTokensPerOwner:)``.
    public func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) async throws {
        try await commit(needing: .owner(record.owner)) {
            try $0.planInsert(record, maximumLiveTokensPerOwner: maximumLiveTokensPerOwner)
        }
    }

    /// Renames a token durably; see ``TokenStore/rename(owner:name:to:)``.
    public func rename(owner: String, name: String, to newName: String) async throws -> TokenRecord {
        try await commit(needing: .owner(owner)) { try $0.planRename(owner: owner, name: name, to: newName) }
    }

    /// Revokes a token and its predecessors in grace, durably; see
    /// ``TokenStore/revoke(owner:name:at:)``.
    public func revoke(owner: String, name: String, at date: Date) async throws -> LineageChange {
        try await commit(needing: .owner(owner)) { try $0.planRevoke(owner: owner, name: name, at: date) }
    }

    /// Revokes a token by id and its older predecessors in grace, durably; see
    /// ``TokenStore/revoke(id:at:)``.
    public func revoke(id: TokenID, at date: Date) async throws -> LineageChange {
        try await commit(needing: .ids([id], withTheirOwners: true)) { try $0.planRevoke(id: id, at: date) }
    }

    /// Disables or enables a token and its predecessors in grace, durably; see
    /// ``TokenStore/setDisabled(owner:name:at:now:)``.
    public func setDisabled(owner: String, name: String, at date: Date?, now: Date) async throws -> LineageChange {
        try await commit(needing: .owner(owner)) {
            try $0.planSetDisabled(owner: owner, name: name, at: date, now: now)
        }
    }

    /// Changes a token's limits and its predecessors', durably; see
    /// ``TokenStore/changeLimits(_:owner:name:now:)``.
    public func changeLimits(
        _ change: TokenLimitsChange,
        owner: String,
        name: String,
        now: Date
    ) async throws
        -> LineageChange
    {
        try await commit(needing: .owner(owner)) { try $0.planChangeLimits(change, owner: owner, name: name, now: now) }
    }

    /// Deletes a token and its predecessors in grace, durably; see
    /// ``TokenStore/delete(owner:name:now:)``.
    public func delete(owner: String, name: String, now: Date) async throws -> LineageChange {
        try await commit(needing: .owner(owner)) { try $0.planDelete(owner: owner, name: name, now: now) }
    }

    /// Removes the record with `id`, durably.
    public func delete(id: TokenID) async throws -> TokenRecord {
        try await commit(needing: .ids([id], withTheirOwners: false)) { try $0.planDelete(id: id) }
    }

    /// Rotates a token atomically and durably; see
    /// ``TokenStore/rotate(owner:name:successor:revokingPreviousAt:)``.
    public func rotate(
        owner: String,
        name: String,
        successor: TokenSuccessor,
        revokingPreviousAt graceEnd: Date
    )
        async throws -> LineageChange
    {
        try await commit(needing: .owner(owner)) {
            try $0.planRotate(owner: owner, name: name, successor: successor, revokingPreviousAt: graceEnd)
        }
    }

    /// Revokes, as of `date`, the owner's records that hold their name and those in rotation
    /// grace, durably.
    public func revokeAll(owner: String, at date: Date) async throws -> [TokenRecord] {
        try await commit(needing: .owner(owner)) { try $0.planRevokeAll(owner: owner, at: date) }
    }

    /// Removes records revoked or expired at or before `cutoff`, durably; the dead entries this
    /// leaves are compacted away in time.
    ///
    /// A store opened from its index file first searches the snapshot in its log for the records
    /// to remove, on a thread of Dispatch's (not the caller's, nor the writer queue, which would
    /// keep writes waiting), without keeping the snapshot's records in memory or keeping other
    /// calls waiting; then it removes those, with whatever else is purgeable by then, in one
    /// commit.
    public func purge(before cutoff: Date) async throws -> [TokenRecord] {
        try await purge(before: cutoff, afterSearching: {})
    }

    /// ``purge(before:)``, running `afterSearching` between the search and the commit: for tests
    /// of what changes meanwhile.
    func purge(
        before cutoff: Date,
        afterSearching: () async throws -> Void
    ) async throws -> [TokenRecord] {
        guard options.access == .readWrite else { throw readOnlyError() }
        // The records in memory are checked by the plan itself, under the writers' lock.
        let search = try await offTheCallersThread {
            try self.searchEveryRecord(includingMemory: false) { TokenStoreRules.isPurged($0, before: cutoff) }
        }
        try await afterSearching()
        let needed = search.map { RecordsNeeded.found($0.snapshotRecords, searching: $0.file) } ?? .all
        return try await commit(needing: needed) { $0.planPurge(before: cutoff) }
    }

    /// Moves last-used times forward, durably.
    public func recordUse(_ uses: [TokenID: Date]) async throws {
        try await commit(needing: .ids(Array(uses.keys), withTheirOwners: false)) { try $0.planRecordUse(uses) }
    }

    /// Compacts the log when it is due (never for a read-only handle), after the writes queued
    /// before this call, and reports a
    /// compaction that failed since the last call (a failed compaction changes nothing; it is
    /// retried with a growing backoff of up to 5 minutes).
    ///
    /// - Throws: The compaction's ``TokenKitError``, such as ``TokenKitError/Code/storageFull``.
    public func performMaintenance() async throws {
        guard options.access == .readWrite else { return }
        try await waitUntilIdle()
        let failure = compaction.withLock { health in
            defer { health.unreported = nil }
            return health.unreported
        }
        if let failure { throw failure }
    }

    // MARK: Reading

    /// Runs `body` on the index after picking up any change another process has committed, and
    /// reading into memory the snapshot records `needed`.
    private func read<T>(_ needed: RecordsNeeded, _ body: (TokenIndex) -> T) throws(TokenKitError) -> T {
        try state.withLock { (state) throws(TokenKitError) -> T in
            try refresh(&state)
            try state.read(needed)
            return body(state.index)
        }
    }

    /// Runs `body` on one of Dispatch's global threads, and returns what it returns: for work that
    /// may read a large file, which must not block the caller's thread (an event loop, or one of
    /// Swift's few cooperative threads).
    ///
    /// Not background work: the caller awaits `body`, which ends before the call returns and
    /// leaves nothing behind (it holds no lock while it reads).
    private func offTheCallersThread<T: Sendable>(
        _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// What a search of every record found, as of the moment it ended.
    struct Search: Sendable {
        /// The matching snapshot records that the memory layer did not hide.
        var snapshotRecords: [TokenRecord]
        /// The matching records in memory, when asked for.
        var memoryRecords: [TokenRecord]
        /// The index file of the snapshot searched.
        var file: IndexFile
    }

    /// With a snapshot read through an index file: the records that satisfy `isIncluded` (those in
    /// memory only when `includingMemory`). `nil`
    /// when every record is in memory, or the snapshot could not be searched: ``read(_:_:)`` with
    /// ``RecordsNeeded/all`` answers then (and reports damage as corruption, stopping the handle).
    ///
    /// The log's snapshot is read without holding the state lock, a batch at a time (it never
    /// changes; a compaction writes a new file), keeping only the matches. Then, under the lock,
    /// matches the memory layer now hides are dropped and the memory layer's matches added: the
    /// answer is exact as of that moment. A compaction meanwhile (another snapshot by then) makes
    /// it search again, up to three times; then it gives up, and `nil` sends the caller to read
    /// the whole log.
    func searchEveryRecord(
        includingMemory: Bool,
        for isIncluded: (TokenRecord) -> Bool
    ) throws(TokenKitError) -> Search? {
        for _ in 0..<3 {
            let file = try state.withLock { (state) throws(TokenKitError) -> IndexFile? in
                try refresh(&state)
                return state.snapshot?.file
            }
            guard let file else { return nil }
            let scanned: [TokenRecord]
            do {
                scanned = try file.records(where: isIncluded)
            } catch {
                guard error.code == .storeCorrupted else { throw error }
                return nil
            }
            let search = try state.withLock { (state) throws(TokenKitError) -> Search? in
                try refresh(&state)
                guard let snapshot = state.snapshot, snapshot.file === file else { return nil }
                return Search(
                    snapshotRecords: scanned.filter { !snapshot.hides($0.id, in: state.index) },
                    memoryRecords: includingMemory ? state.index.allRecords.filter(isIncluded) : [],
                    file: file
                )
            }
            if let search { return search }
        }
        return nil
    }

    /// Picks up other processes' changes, if the shared counter says there are any; and at least
    /// once a second checks that the store's files are still this handle's, and follows a
    /// compaction, so that a handle whose files were deleted or replaced stops serving within a
    /// second. The counter is marked as seen only once the changes are applied, so a failed
    /// catch-up is retried next call.
    func refresh(_ state: inout State) throws(TokenKitError) {
        if let detached = state.detached { throw detached }
        let now = ContinuousClock.now
        if now - state.identityCheckedAt >= Self.identityCheckInterval {
            let pathStatus = try checkIdentity(&state)
            state.identityCheckedAt = now
            try catchUpOrDetach(&state, holdingLock: false, pathStatus: pathStatus)
        }
        let change = state.shared.changeCounter
        guard change != state.seenChange else { return }
        try catchUpOrDetach(&state, holdingLock: false)
        state.seenChange = change
    }

    /// How often, at most, a reader checks that the store's files are still its own.
    static let identityCheckInterval = Duration.seconds(1)

    /// Catches up; corruption found in a file while it is open leaves the index half applied, so
    /// it also stops the handle.
    @discardableResult
    func catchUpOrDetach(
        _ state: inout State,
        holdingLock: Bool,
        pathStatus: POSIXFile.Status? = nil
    ) throws(TokenKitError) -> Int {
        do {
            return try catchUp(&state, holdingLock: holdingLock, pathStatus: pathStatus)
        } catch {
            if error.code == .storeCorrupted { state.detached = error }
            throw error
        }
    }
}
