// The store targets: FileTokenStore opening arbitrary bytes (store-bytes), and opening, using,
// compacting and reopening logs whose checksums are all valid (store-log).

import Foundation
import Synchronization

/// The time the store-log target's manager sees: fixed, so runs repeat.
struct FuzzClock: TokenClock {
    func now() -> Date { FuzzValues.now }
}

func fuzzOptions(
    access: FileTokenStore.Options.Access = .readWrite,
    recovery: FileTokenStore.Options.Recovery = .refuse,
    compactionThreshold: Int = 10_000
) -> FileTokenStore.Options {
    // Unsynchronized: the files are on a scratch (often RAM) disk; durability is not under test.
    FileTokenStore.Options(
        durability: .unsynchronized,
        access: access,
        lockTimeout: .seconds(2),
        recovery: recovery,
        compactionThreshold: compactionThreshold
    )
}

// MARK: store-bytes

/// Writes the input as a store file — as it is, and after a valid header — and opens it read-only
/// (which must leave the file as it was), with `.refuse` and with `.salvageIntactRecords`, then
/// looks records up. Any TokenKitError is fine. A salvaged store must reopen as it was salvaged.
func fuzzStoreBytes(_ bytes: [UInt8]) {
    defer { FuzzFiles.removeAll() }
    // Odd-length inputs get a version 1 header, so the upgrade path is fuzzed too.
    let header = StoreFileFormat.Header(
        snapshotEnd: StoreFileFormat.headerSize,
        snapshotSequence: 0,
        version: bytes.count % 2 == 0 ? StoreFileFormat.version : 1
    )
    for file in [bytes, header.encoded() + bytes] {
        FuzzFiles.removeAll()
        FuzzFiles.write(file, to: FuzzFiles.storePath)
        openAndRead(fuzzOptions(access: .readOnly))
        guard FuzzFiles.read(FuzzFiles.storePath) == file else {
            fuzzFailure("opening read-only changed the store file")
        }
        openAndRead(fuzzOptions(recovery: .refuse))
        FuzzFiles.removeAll()
        FuzzFiles.write(file, to: FuzzFiles.storePath)
        openAndRead(fuzzOptions(recovery: .salvageIntactRecords))
    }
}

private func openAndRead(_ options: FileTokenStore.Options) {
    let salvaged: [TokenRecord]
    do {
        let store = try FileTokenStore(path: FuzzFiles.storePath, options: options)
        let records = allRecords(of: store)
        for record in records {
            _ = try store.records(owner: record.owner)
            _ = try store.record(forDigest: record.digest)
            _ = try store.record(id: record.id)
        }
        runAsync {
            do {
                _ = try await store.records(expiringBetween: .distantPast, and: .distantFuture)
            } catch {
                expectTokenKitError(error, "searching a store file for expiring tokens")
            }
        }
        _ = try store.count
        guard store.openReport.damagedFileMovedTo != nil else { return }
        salvaged = records
    } catch {
        expectTokenKitError(error, "opening or reading a store file")
        return
    }
    // Salvage wrote a clean store: it must open without salvage and hold the same records.
    do {
        let reopened = try FileTokenStore(path: FuzzFiles.storePath, options: fuzzOptions())
        guard allRecords(of: reopened) == salvaged else { fuzzFailure("a salvaged store reopens with other records") }
    } catch {
        fuzzFailure("a salvaged store does not reopen: \(error)")
    }
}

/// Every record of the store, by id: those in memory and, for a store opened from its index file,
/// the snapshot's others, read without changing what the handle holds.
func allRecords(of store: FileTokenStore) -> [TokenRecord] {
    do {
        return try store.state.withLock { (state) throws(TokenKitError) -> [TokenRecord] in
            var reader = FileTokenStore.SnapshotRecordReader(memory: state.index, snapshot: state.snapshot)
            var records: [TokenRecord] = []
            while let slice = try reader.next() { records += slice }
            return records
        }
        .sorted { $0.id < $1.id }
    } catch {
        fuzzFailure("reading every record of a store failed: \(error)")
    }
}

// MARK: store-log

/// The store-log input, byte by byte:
///
/// - byte 0, configuration: bits 0–1 the compaction threshold (1, 2, 8, 10 000); bit 2 salvage
///   when open refuses; bit 3 cut the last group short (a torn write); bit 4 a version 1 header.
/// - log operations until a 0xFF byte, each a byte and its operands: `op % 8` = 0, 1, 2, 7 put a
///   record; 3 remove an id; 4 a hasher entry; 5 end the group (next sequence); 6 end the group
///   and jump the sequence by the next byte (0 repeats it: damage).
/// - store operations after the 0xFF (at most 32), `op & 0x7f % 15`: insert, create (manager),
///   revoke, rename, disable/enable, change limits, delete by name, delete by id, rotate,
///   revoke all, purge, record use, validate (manager), bind hasher, revoke by id. An op with
///   bit 7 set runs concurrently with the next one.
///
/// The log is written with valid checksums, opened, listed, validated against, written through,
/// compacted and reopened (read-write, then read-only); invariants are checked after each step.
func fuzzStoreLog(_ bytes: [UInt8]) {
    defer { FuzzFiles.removeAll() }
    var input = FuzzInput(bytes)
    let configuration = input.u8()
    let log = buildLog(&input, configuration: configuration)
    FuzzFiles.write(log.file, to: FuzzFiles.storePath)
    trace("store-log: a log of \(log.file.count) bytes")
    let operations = decodeOperations(&input)
    let owners = log.owners.union(operations.owners).union(FuzzValues.owners)
    runAsync {
        await exercise(configuration: configuration, operations: operations.batches, owners: owners)
    }
}

/// Keeps logs free of the corruption a crafted log can hold (a record id under two owners, two
/// records with one digest): set TOKENKIT_FUZZ_CONSISTENT_LOG=1 to fuzz past those while they
/// are not fixed (issue 15, defect 7).
private let consistentLog = ProcessInfo.processInfo.environment["TOKENKIT_FUZZ_CONSISTENT_LOG"] == "1"

private func buildLog(
    _ input: inout FuzzInput,
    configuration: UInt8
) -> (file: [UInt8], owners: Set<String>) {
    let header = StoreFileFormat.Header(
        snapshotEnd: StoreFileFormat.headerSize,
        snapshotSequence: 0,
        version: configuration & 0x10 != 0 ? 1 : StoreFileFormat.version
    )
    var file = header.encoded()
    var entries: [LogEntry] = []
    var sequence: UInt64 = 1
    var owners: Set<String> = []
    var live: [TokenID: TokenRecord] = [:]
    var lastGroupStart = file.count

    func flush() {
        guard !entries.isEmpty else { return }
        lastGroupStart = file.count
        file += StoreFileFormat.encodeGroup(entries, sequence: sequence)
        entries.removeAll()
    }

    while !input.isAtEnd {
        let op = input.u8()
        if op == 0xFF { break }
        let entry: LogEntry
        switch op % 8 {
        case 3:
            let id = input.id()
            live[id] = nil
            entry = .remove(id)
        case 4:
            entry = .hasher(input.hasherIdentity())
        case 5:
            flush()
            sequence &+= 1
            continue
        case 6:
            flush()
            sequence &+= UInt64(input.u8())
            continue
        default:
            var record = input.record()
            if consistentLog { record = consistent(record, with: live) }
            live[record.id] = record
            owners.insert(record.owner)
            entry = .put(record)
        }
        checkRoundTrip(entry)
        trace("log entry in group \(sequence): \(entry)")
        entries.append(entry)
    }
    flush()
    if configuration & 0x08 != 0, file.count > lastGroupStart {
        // A torn write: the last group loses its end.
        let cut = min(file.count - lastGroupStart, Int(configuration >> 5) * 9 + 1)
        file.removeLast(cut)
    }
    return (file, owners)
}

/// `record`, with the owner its id already has and a digest no other live record has.
private func consistent(_ record: TokenRecord, with live: [TokenID: TokenRecord]) -> TokenRecord {
    let owner = live[record.id]?.owner ?? record.owner
    let digestTaken = live.values.contains { $0.id != record.id && $0.digest == record.digest }
    let digest = digestTaken ? TokenDigest(record.id.high, record.id.low, 0xd15e, 0xa5e) : record.digest
    return TokenRecord(
        id: record.id,
        owner: owner,
        name: record.name,
        createdAt: record.createdAt,
        expiresAt: record.expiresAt,
        scopes: record.scopes,
        allowedNetworks: record.allowedNetworks,
        lastUsedAt: record.lastUsedAt,
        revokedAt: record.revokedAt,
        disabledAt: record.disabledAt,
        digest: digest,
        lineageID: record.lineageID
    )
}

/// A log entry decodes to exactly what was encoded, using every byte.
private func checkRoundTrip(_ entry: LogEntry) {
    var writer = ByteWriter()
    entry.encode(into: &writer)
    let decoded: LogEntry? = writer.bytes.withUnsafeBytes { buffer in
        var reader = ByteReader(buffer)
        guard let entry = try? LogEntry.decode(from: &reader), reader.isAtEnd else { return nil }
        return entry
    }
    guard decoded == entry else { fuzzFailure("a log entry does not decode to what was encoded: \(entry)") }
}

// MARK: Store operations

/// One store operation, decoded from the input before the store is opened.
/// Its last argument says whether it runs alone (not concurrently with another operation).
private typealias Operation = @Sendable (FileTokenStore, TokenManager, Bool) async -> Void

private func decodeOperations(_ input: inout FuzzInput) -> (batches: [[Operation]], owners: Set<String>) {
    var batches: [[Operation]] = []
    var batch: [Operation] = []
    var owners: Set<String> = []
    var count = 0
    while !input.isAtEnd, count < 32 {
        count += 1
        let op = input.u8()
        let (operation, owner) = decodeOperation(op & 0x7f, &input)
        if let owner { owners.insert(owner) }
        batch.append(operation)
        if op & 0x80 == 0 {
            batches.append(batch)
            batch = []
        }
    }
    if !batch.isEmpty { batches.append(batch) }
    return (batches, owners)
}

private func decodeOperation(_ op: UInt8, _ input: inout FuzzInput) -> (Operation, owner: String?) {
    switch op % 15 {
    case 0:
        let fields = input.record()
        let record = TokenRecord(
            id: fields.id,
            owner: fields.owner,
            name: fields.name,
            createdAt: fields.createdAt,
            expiresAt: fields.expiresAt,
            scopes: fields.scopes,
            allowedNetworks: fields.allowedNetworks,
            lastUsedAt: fields.lastUsedAt,
            revokedAt: fields.revokedAt,
            disabledAt: fields.disabledAt,
            digest: fields.digest
        )
        let limit: Int? = input.bool() ? Int(input.u8() % 4) : nil
        return (
            { store, _, _ in
                await attempt("insert") { try await store.insert(record, maximumLiveTokensPerOwner: limit) }
            },
            record.owner
        )
    case 1:
        let (owner, name) = (input.owner(), input.name())
        let expiry: TokenExpiry =
            switch input.u8() % 4 {
            case 0: .policyDefault
            case 1: .never
            case 2: .at(input.date())
            default: .after(.seconds(Int64(input.u32())))
            }
        let (scopes, networks) = (input.scopes(), input.networks())
        return (
            { _, manager, _ in
                await attempt("create") {
                    _ = try await manager.create(
                        owner: owner,
                        name: name,
                        expiry: expiry,
                        scopes: scopes,
                        allowedNetworks: networks
                    )
                }
            }, owner
        )
    case 2:
        let (owner, name, date) = (input.owner(), input.name(), input.date())
        return (
            { store, _, _ in await attempt("revoke") { _ = try await store.revoke(owner: owner, name: name, at: date) }
            }, owner
        )
    case 3:
        let (owner, name, newName) = (input.owner(), input.name(), input.name())
        return (
            { store, _, _ in
                await attempt("rename") { _ = try await store.rename(owner: owner, name: name, to: newName) }
            }, owner
        )
    case 4:
        let (owner, name, date, now) = (input.owner(), input.name(), input.optionalDate(), input.date())
        return (
            { store, _, _ in
                await attempt("setDisabled") {
                    _ = try await store.setDisabled(owner: owner, name: name, at: date, now: now)
                }
            }, owner
        )
    case 5:
        let (owner, name) = (input.owner(), input.name())
        let expiry: TokenLimitsChange.Expiry? =
            switch input.u8() % 3 {
            case 0: nil
            case 1: .never
            default: .at(input.date())
            }
        let scopes: Set<String>? = input.bool() ? input.scopes() : nil
        let networks: [IPNetwork]? = input.bool() ? input.networks() : nil
        let (change, now) = (TokenLimitsChange(expiry: expiry, scopes: scopes, allowedNetworks: networks), input.date())
        return (
            { store, _, _ in
                await attempt("changeLimits") {
                    _ = try await store.changeLimits(change, owner: owner, name: name, now: now)
                }
            }, owner
        )
    case 6:
        let (owner, name, now) = (input.owner(), input.name(), input.date())
        return (
            { store, _, _ in await attempt("delete") { _ = try await store.delete(owner: owner, name: name, now: now) }
            }, owner
        )
    case 7:
        let id = input.id()
        return ({ store, _, _ in await attempt("delete(id:)") { _ = try await store.delete(id: id) } }, nil)
    case 8:
        let (owner, name) = (input.owner(), input.name())
        let expiry: TokenLimitsChange.Expiry? = input.bool() ? .at(input.date()) : nil
        let successor = TokenSuccessor(id: input.id(), digest: input.digest(), createdAt: input.date(), expiry: expiry)
        let graceEnd = input.date()
        return (
            { store, _, _ in
                await attempt("rotate") {
                    _ = try await store.rotate(
                        owner: owner,
                        name: name,
                        successor: successor,
                        revokingPreviousAt: graceEnd
                    )
                }
            }, owner
        )
    case 9:
        let (owner, date) = (input.owner(), input.date())
        return (
            { store, _, _ in await attempt("revokeAll") { _ = try await store.revokeAll(owner: owner, at: date) } },
            owner
        )
    case 10:
        let cutoff = input.date()
        return ({ store, _, _ in await attempt("purge") { _ = try await store.purge(before: cutoff) } }, nil)
    case 11:
        var uses: [TokenID: Date] = [:]
        for _ in 0..<(input.u8() % 3 + 1) { uses[input.id()] = input.date() }
        return ({ [uses] store, _, _ in await attempt("recordUse") { try await store.recordUse(uses) } }, nil)
    case 12:
        let (secret, owner) = (Int(input.u8()), input.owner())
        return (
            { store, manager, alone in
                await checkValidation(store, manager, secret: secret, owner: owner, strict: alone)
            }, owner
        )
    case 13:
        let identity = input.hasherIdentity()
        return ({ store, _, _ in await attempt("bindHasher") { try await store.bindHasher(identity) } }, nil)
    default:
        let (id, date) = (input.id(), input.date())
        return ({ store, _, _ in await attempt("revoke(id:)") { _ = try await store.revoke(id: id, at: date) } }, nil)
    }
}

/// Runs a store call; it may fail, but only with a TokenKitError.
private func attempt(_ what: String, _ body: () async throws -> Void) async {
    do {
        try await body()
    } catch {
        expectTokenKitError(error, what)
    }
}

/// Validates known secret `secret` (as a bare token and as `cpanel OWNER:TOKEN`). When `strict`
/// (no other operation runs meanwhile), checks the answer against the store's record for its digest.
private func checkValidation(
    _ store: FileTokenStore,
    _ manager: TokenManager,
    secret: Int,
    owner: String,
    strict: Bool
) async {
    let index = secret % FuzzValues.secrets.count
    let token = FuzzValues.secrets[index]
    do {
        let result = try await manager.validate(token)
        if let record = result.record {
            guard record.digest == FuzzValues.digests[index] else { fuzzFailure("validate accepted another digest") }
            guard record.status(at: FuzzValues.now) == .active, record.allows(nil) else {
                fuzzFailure("validate accepted a token that is \(record.status(at: FuzzValues.now)) or address-bound")
            }
        }
        if strict {
            let stored = try store.record(forDigest: FuzzValues.digests[index])
            if let record = result.record, stored?.id != record.id {
                fuzzFailure("validate accepted \(record.id); the store holds \(stored?.id.description ?? "nothing")")
            }
            if result.record == nil, let stored, stored.status(at: FuzzValues.now) == .active,
                stored.allowedNetworks.isEmpty
            {
                fuzzFailure("validate refused (\(result)) an active token the store holds")
            }
        }
        let header = "cpanel \(owner):\(token)"
        let claimed = (try? AuthorizationCredentials(parsing: header))?.user
        if let record = try await manager.validate(authorization: header).record, record.owner != claimed {
            fuzzFailure("\(header.debugDescription) validated a token of \(record.owner.debugDescription)")
        }
    } catch {
        expectTokenKitError(error, "validate")
    }
}

// MARK: Exercising a store

/// What the store holds, seen through its API, after the invariants are checked.
private struct StoreView: Equatable {
    var records: [TokenRecord]
    var byOwner: [String: [TokenRecord]]
    var hasher: TokenHasherIdentity?
}

private func exercise(configuration: UInt8, operations: [[Operation]], owners: Set<String>) async {
    let path = FuzzFiles.storePath
    let threshold = [1, 2, 8, 10_000][Int(configuration & 3)]
    let beforeReopen: StoreView
    do {
        // Open, salvaging when asked and needed.
        let store: FileTokenStore
        do {
            store = try FileTokenStore(path: path, options: fuzzOptions(compactionThreshold: threshold))
        } catch {
            expectTokenKitError(error, "FileTokenStore.init")
            guard configuration & 0x04 != 0 else { return }
            do {
                let options = fuzzOptions(recovery: .salvageIntactRecords, compactionThreshold: threshold)
                store = try FileTokenStore(path: path, options: options)
            } catch {
                expectTokenKitError(error, "FileTokenStore.init(recovery: .salvageIntactRecords)")
                return
            }
        }
        trace("opened: \(store.openReport)")
        trace("records: \(allRecords(of: store).map { "\($0.id) \($0.owner)/\($0.name)" })")
        _ = checkedView(store, owners, "after open")
        let manager = TokenManager(store: store, configuration: .init(clock: FuzzClock()))
        for secret in 0..<2 { await checkValidation(store, manager, secret: secret, owner: "alice", strict: true) }

        for batch in operations {
            await withTaskGroup(of: Void.self) { group in
                let alone = batch.count == 1
                for operation in batch { group.addTask { await operation(store, manager, alone) } }
            }
        }
        await attempt("flushUsage") { try await manager.flushUsage() }
        await attempt("waitUntilIdle") { try await store.waitUntilIdle() }
        let afterWrites = checkedView(store, owners, "after writes")

        // Compact on the writer queue, as the store does, once no write is under way. (The writers'
        // file lock only keeps other processes out; none shares this store.)
        store.writerQueue.sync {
            do {
                try store.writeCompactedStore()
            } catch {
                expectTokenKitError(error, "compact")
            }
        }
        let afterCompaction = checkedView(store, owners, "after compaction")
        guard afterCompaction == afterWrites else { fuzzFailure("compaction changed what the store holds") }
        beforeReopen = afterCompaction
    }
    // Every handle is gone: reopen from the file alone.
    do {
        let reopened = try FileTokenStore(path: path, options: fuzzOptions())
        let afterReopen = checkedView(reopened, owners, "after reopen")
        guard afterReopen == beforeReopen else {
            fuzzFailure(
                "the reopened store holds other records than before (\(describeDifference(beforeReopen, afterReopen)))"
            )
        }
    } catch {
        fuzzFailure("a store TokenKit wrote and compacted does not reopen: \(error)")
    }
    do {
        let readOnly = try FileTokenStore(path: path, options: fuzzOptions(access: .readOnly))
        let view = checkedView(readOnly, owners, "after reopening read-only")
        guard view == beforeReopen else {
            fuzzFailure("the store opened read-only holds other records (\(describeDifference(beforeReopen, view)))")
        }
    } catch {
        fuzzFailure("a store TokenKit wrote and compacted does not open read-only: \(error)")
    }
}

/// Lists the store through its API and checks that the listings agree with each other.
private func checkedView(_ store: FileTokenStore, _ owners: Set<String>, _ stage: String) -> StoreView {
    let all = allRecords(of: store)
    let hasher = store.state.withLock { $0.index.hasher }
    var byOwner: [String: [TokenRecord]] = [:]
    do {
        guard try store.count == all.count else { fuzzFailure("\(stage): count is not the number of records") }
        for owner in owners.union(all.map(\.owner)) {
            let listed = try store.records(owner: owner)
            for (position, record) in listed.enumerated() {
                guard record.owner == owner else {
                    fuzzFailure(
                        "\(stage): records(owner: \(owner.debugDescription)) lists \(record.id) of owner \(record.owner.debugDescription)"
                    )
                }
                if position > 0, TokenStoreRules.isOlder(record, than: listed[position - 1]) {
                    fuzzFailure("\(stage): records(owner: \(owner.debugDescription)) is not oldest first")
                }
                guard try store.record(forDigest: record.digest) == record else {
                    fuzzFailure("\(stage): record(forDigest:) of listed \(record.id) returns another record")
                }
                guard try store.record(id: record.id) == record else {
                    fuzzFailure("\(stage): record(id:) of listed \(record.id) returns another record")
                }
            }
            if !listed.isEmpty { byOwner[owner] = listed }
        }
    } catch {
        fuzzFailure("\(stage): reading a store no other process writes failed: \(error)")
    }
    for record in all where byOwner[record.owner]?.contains(record) != true {
        fuzzFailure("\(stage): \(record.id) is not listed under its owner \(record.owner.debugDescription)")
    }
    return StoreView(records: all, byOwner: byOwner, hasher: hasher)
}

private func describeDifference(_ before: StoreView, _ after: StoreView) -> String {
    let (old, new) = (Set(before.records), Set(after.records))
    return "\(old.subtracting(new).count) records gone, \(new.subtracting(old).count) new, hasher "
        + (before.hasher == after.hasher
            ? "same" : "\(before.hasher?.description ?? "none") → \(after.hasher?.description ?? "none")")
}
