// The store-index target (issue 13): FileTokenStore beside an intact compacted log, with any bytes
// as its index file. The log alone decides the answers, so whatever the index file holds, every
// look-up must answer exactly as a store that reads its whole log.

import Foundation
import Synchronization

/// A compacted log of 60 records over 5 owners, the same in every run (so that seeds stay valid),
/// and its index file as compaction writes it.
struct IndexFixture: Sendable {
    let log: [UInt8]
    let index: [UInt8]
    let records: [TokenRecord]
    let owners: [String]

    static let shared = IndexFixture()

    private init() {
        owners = (0..<5).map { "owner\($0)" }
        let owners = owners
        records = (0..<60).map { number in
            let value = UInt64(number + 1)
            return TokenRecord(
                id: TokenID(high: value &* 0x9E37_79B9_7F4A_7C15, low: value),
                owner: owners[number % owners.count],
                name: "t\(number)",
                createdAt: FuzzValues.now - Double(number),
                expiresAt: number % 3 == 0 ? FuzzValues.now + Double(number) : nil,
                scopes: number % 2 == 0 ? ["tokens:read"] : [],
                digest: TokenDigest(value, value &* 3, value &* 5, value &* 7)
            )
        }
        FuzzFiles.removeAll()
        var slices = [records]
        do {
            _ = try FileTokenStore.writeSnapshot(sequence: 1, path: FuzzFiles.storePath, hasher: nil) {
                () throws(TokenKitError) -> [TokenRecord]? in slices.popLast()
            }
        } catch {
            fuzzFailure("writing the store-index fixture failed: \(error)")
        }
        log = FuzzFiles.read(FuzzFiles.storePath) ?? []
        index = FuzzFiles.read(IndexFile.path(forStore: FuzzFiles.storePath)) ?? []
        FuzzFiles.removeAll()
        guard !log.isEmpty, !index.isEmpty else { fuzzFailure("the store-index fixture wrote no files") }
    }
}

/// The store-index input: byte 0 chooses the mode, the rest is the index file, put beside the
/// fixture's log.
///
/// - Even: the bytes as they are, as a damaged or truncated index file. Every checksum guards
///   them, so the store must answer exactly as from its log alone: each record by id and by digest,
///   each owner's list, an unknown id and digest, the count. Nothing may throw: the log is intact.
/// - Odd: the bytes resealed (every page checksum, and the header's, recomputed), as a forged index
///   file. It may hide records, but must never crash, hang, or answer with a record the log does
///   not hold under that key.
///
/// In both, the searches of every record (expiring tokens, a purge) must answer exactly as the log.
func fuzzStoreIndex(_ bytes: [UInt8]) {
    defer { FuzzFiles.removeAll() }
    let fixture = IndexFixture.shared
    let forged = bytes.first.map { $0 & 1 == 1 } ?? false
    let index = forged ? resealed(Array(bytes.dropFirst())) : Array(bytes.dropFirst())
    for access in [FileTokenStore.Options.Access.readOnly, .readWrite] {
        FuzzFiles.removeAll()
        FuzzFiles.write(fixture.log, to: FuzzFiles.storePath)
        FuzzFiles.write(index, to: IndexFile.path(forStore: FuzzFiles.storePath))
        do {
            let store = try FileTokenStore(path: FuzzFiles.storePath, options: fuzzOptions(access: access))
            trace("store-index: opened from the index file: \(store.openReport.openedFromIndexFile)")
            if forged {
                try checkOnlyRealRecords(store, fixture)
            } else {
                try checkExactAnswers(store, fixture)
            }
            checkSearchesOfEveryRecord(store, fixture, forged: forged)
        } catch {
            if forged {
                expectTokenKitError(error, "a store beside a forged index file")
            } else {
                fuzzFailure("a store with an intact log failed beside a damaged index file: \(error)")
            }
        }
    }
}

private func checkExactAnswers(_ store: FileTokenStore, _ fixture: IndexFixture) throws {
    for record in fixture.records {
        guard try store.record(forDigest: record.digest) == record, try store.record(id: record.id) == record
        else { fuzzFailure("a damaged index file changed the answer for \(record.id)") }
    }
    for owner in fixture.owners {
        let expected = fixture.records.filter { $0.owner == owner }.sorted(by: TokenStoreRules.isOlder)
        guard try store.records(owner: owner) == expected else {
            fuzzFailure("a damaged index file changed the list of \(owner)")
        }
    }
    guard try store.record(id: TokenID(high: 1, low: 2)) == nil,
        try store.record(forDigest: TokenDigest(1, 2, 3, 4)) == nil,
        try store.count == fixture.records.count
    else { fuzzFailure("a damaged index file changed an absence or the count") }
}

private func checkOnlyRealRecords(_ store: FileTokenStore, _ fixture: IndexFixture) throws {
    for record in fixture.records {
        if let found = try store.record(forDigest: record.digest), found != record {
            fuzzFailure("a forged index file answered \(found.id) for the digest of \(record.id)")
        }
        if let found = try store.record(id: record.id), found != record {
            fuzzFailure("a forged index file answered another record for \(record.id)")
        }
    }
    for owner in fixture.owners {
        for found in try store.records(owner: owner) where !fixture.records.contains(found) || found.owner != owner {
            fuzzFailure("a forged index file listed \(found.id) under \(owner), which the log does not hold")
        }
    }
    _ = try store.count
}

/// The searches of every record read the log's snapshot, not the index file: whatever it holds,
/// even forged, `records(expiringBetween:and:)` finds exactly the log's expiring records, and a
/// purge (read-write only) removes exactly its purgeable ones.
private func checkSearchesOfEveryRecord(_ store: FileTokenStore, _ fixture: IndexFixture, forged: Bool) {
    let expiring = fixture.records.filter { TokenStoreRules.isExpiring($0, between: .distantPast, and: .distantFuture) }
        .sorted(by: TokenStoreRules.expiresSooner)
    let cutoff = FuzzValues.now + 30
    let purgeable = Set(fixture.records.filter { TokenStoreRules.isPurged($0, before: cutoff) }.map(\.id))
    runAsync {
        do {
            guard try await store.records(expiringBetween: .distantPast, and: .distantFuture) == expiring else {
                fuzzFailure("an index file changed the records a search finds expiring")
            }
            guard store.options.access == .readWrite else { return }
            guard Set(try await store.purge(before: cutoff).map(\.id)) == purgeable else {
                fuzzFailure("an index file changed the records a purge removes")
            }
        } catch {
            if forged {
                expectTokenKitError(error, "a search beside a forged index file")
            } else {
                fuzzFailure("a search failed beside a damaged index file: \(error)")
            }
        }
    }
}

/// `bytes` with every table page's checksum, the checksums' checksum and the header's recomputed
/// from what the header says, as someone forging an index file would.
private func resealed(_ bytes: [UInt8]) -> [UInt8] {
    let pageSize = IndexFileFormat.pageSize
    guard bytes.count >= pageSize else { return bytes }
    var bytes = bytes
    func u32(at offset: Int) -> Int {
        bytes.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
    }
    func store(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
    }
    let checksumPage = u32(at: 64)
    let tablePages = checksumPage - 1
    if checksumPage >= 1, checksumPage <= 1 << 16 {
        let end = checksumPage * pageSize + tablePages * 4
        if bytes.count < end { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
        for page in 1..<max(1, checksumPage) {
            let checksum = bytes.withUnsafeBytes {
                CRC32.update(0, UnsafeRawBufferPointer(rebasing: $0[page * pageSize..<(page + 1) * pageSize]))
            }
            store(checksum, at: checksumPage * pageSize + (page - 1) * 4)
        }
        let checksums = Array(bytes[checksumPage * pageSize..<end])
        store(CRC32.checksum(checksums), at: 68)
    }
    store(CRC32.checksum(Array(bytes[0..<pageSize - 4])), at: pageSize - 4)
    return bytes
}
