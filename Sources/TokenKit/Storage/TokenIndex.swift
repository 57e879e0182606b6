import Foundation

/// The in-memory tables behind ``InMemoryTokenStore`` and `FileTokenStore`, and the contract checks
/// both share.
///
/// Every change reduces to ``put(_:)`` (add or replace a record) or ``remove(id:)``: the file store
/// writes exactly those to its log. The `prepare…` methods check the store contract and return the
/// records to put without changing anything, so a store can make the change durable first.
///
/// Records live in a slot array; the dictionaries map to slots, so each record is stored once.
struct TokenIndex: Sendable {
    private var slots: [StoredRecord?] = []
    /// Each slot's digest and id, apart from the record so that a look-up compares plain bytes
    /// without copying (and retaining) a record. A free slot keeps stale values.
    private var slotDigests: [TokenDigest] = []
    private var slotIDs: [TokenID] = []
    private var freeSlots: [Int32] = []
    private var slotByDigest = SlotTable()
    private var slotByID = SlotTable()
    private var slotsByOwner: [String: [Int32]] = [:]

    /// The number of records.
    var count: Int { slotByID.count }

    // MARK: Queries

    func record(forDigest digest: TokenDigest) -> TokenRecord? {
        slot(forDigest: digest).flatMap(record(at:))
    }

    func record(id: TokenID) -> TokenRecord? {
        slot(forID: id).flatMap(record(at:))
    }

    func records(owner: String) -> [TokenRecord] {
        (slotsByOwner[owner] ?? []).compactMap(record(at:))
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Every record, one at a time, in no particular order: filtering it materialises only the
    /// records kept, not a million at once.
    var allRecords: some Sequence<TokenRecord> {
        (0..<slots.count).lazy.compactMap { record(at: Int32($0)) }
    }

    /// The record in `slot`, or `nil` for a free slot.
    private func record(at slot: Int32) -> TokenRecord? {
        let index = Int(slot)
        return slots[index]?.record(id: slotIDs[index], digest: slotDigests[index])
    }

    /// The number of slots, used and free: the bound for ``records(inSlots:)``.
    var slotCount: Int { slots.count }

    /// The records in a range of slots, so that a large index can be walked a piece at a time.
    func records(inSlots range: Range<Int>) -> [TokenRecord] {
        range.clamped(to: 0..<slots.count).compactMap { record(at: Int32($0)) }
    }

    // A live slot's digest and id are current, and only live slots are in the tables, so comparing
    // the parallel arrays is enough.
    private func slot(forDigest digest: TokenDigest) -> Int32? {
        slotDigests.withUnsafeBufferPointer { digests in
            slotByDigest.find(digest.w0) { digests[Int($0)] == digest }
        }
    }

    private func slot(forID id: TokenID) -> Int32? {
        slotIDs.withUnsafeBufferPointer { ids in
            slotByID.find(id.high) { ids[Int($0)] == id }
        }
    }

    // MARK: Contract checks

    /// Checks that `record` may be inserted.
    func prepareInsert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) throws(TokenKitError) {
        guard slot(forID: record.id) == nil, slot(forDigest: record.digest) == nil else {
            throw .duplicateToken(id: record.id)
        }
        let siblings = (slotsByOwner[record.owner] ?? []).compactMap(record(at:))
        if record.holdsName, siblings.contains(where: { $0.holdsName && $0.name == record.name }) {
            throw .duplicateName(record.name, renaming: false)
        }
        if let limit = maximumLiveTokensPerOwner {
            let live = siblings.count { !$0.isRevoked(at: record.createdAt) && !$0.isExpired(at: record.createdAt) }
            guard live < limit else { throw .tokenLimitReached(owner: record.owner, limit: limit) }
        }
    }

    /// Applies `change` to a copy of the record with `id` and checks the result.
    func prepareUpdate(
        id: TokenID,
        _ change: (inout TokenRecord) throws -> Void
    ) throws -> TokenRecord {
        guard let current = record(id: id) else { throw TokenKitError.tokenNotFound(id: id) }
        var updated = current
        try change(&updated)
        guard updated.id == current.id, updated.owner == current.owner, updated.digest == current.digest,
            updated.createdAt == current.createdAt
        else {
            throw TokenKitError(
                .invalidConfiguration,
                "An update may not change a token's id, owner, digest or creation time."
            )
        }
        if updated.holdsName && (updated.name != current.name || !current.holdsName) {
            let taken = (slotsByOwner[updated.owner] ?? []).contains { slot in
                guard let other = record(at: slot), other.id != id else { return false }
                return other.holdsName && other.name == updated.name
            }
            if taken { throw TokenKitError.duplicateName(updated.name, renaming: updated.name != current.name) }
        }
        return updated
    }

    /// The records of `owner` that ``TokenStore/revokeAll(owner:at:)`` changes, already changed.
    func prepareRevokeAll(owner: String, at date: Date) -> [TokenRecord] {
        records(owner: owner).compactMap { record in
            guard record.holdsName || record.revokedAt.map({ $0 > date }) == true else { return nil }
            var revoked = record
            revoked.revokedAt = date
            return revoked
        }
    }

    /// The records ``TokenStore/replace(id:revokingAt:with:)`` writes: the old record, no longer
    /// holding its name and revoked at `date` (or earlier, if it already was), and the replacement.
    func prepareReplace(
        id: TokenID,
        revokingAt date: Date,
        with replacement: TokenRecord
    ) throws(TokenKitError) -> (old: TokenRecord, new: TokenRecord) {
        guard var old = record(id: id), old.holdsName else { throw .tokenNotFound(id: id) }
        guard replacement.owner == old.owner, replacement.name == old.name else {
            throw TokenKitError(
                .invalidConfiguration,
                "A replacement token must have the owner and name of the token it replaces."
            )
        }
        guard slot(forID: replacement.id) == nil, slot(forDigest: replacement.digest) == nil else {
            throw .duplicateToken(id: replacement.id)
        }
        old.revokedAt = date
        return (old, replacement)
    }

    /// The records ``TokenStore/purge(before:)`` removes: revoked or expired at or before `cutoff`.
    func preparePurge(before cutoff: Date) -> [TokenRecord] {
        allRecords.filter { $0.isRevoked(at: cutoff) || $0.isExpired(at: cutoff) }
    }

    /// The records that expire in `start ..< end` and are not revoked by `start`.
    func records(expiringBetween start: Date, and end: Date) -> [TokenRecord] {
        allRecords.filter { record in
            guard let expiresAt = record.expiresAt else { return false }
            return expiresAt >= start && expiresAt < end && !record.isRevoked(at: start)
        }
        .sorted { ($0.expiresAt!, $0.id) < ($1.expiresAt!, $1.id) }
    }

    /// The records whose ``TokenRecord/lastUsedAt`` `uses` moves forward, already changed.
    func prepareRecordUse(_ uses: [TokenID: Date]) -> [TokenRecord] {
        uses.compactMap { id, date in
            guard var record = record(id: id), record.lastUsedAt.map({ $0 < date }) ?? true else { return nil }
            record.lastUsedAt = date
            return record
        }
    }

    // MARK: Changes

    /// Adds `record`, or replaces the record with its id.
    mutating func put(_ record: TokenRecord) {
        let stored = StoredRecord(record)
        if let slot = slot(forID: record.id) {
            let oldDigest = slotDigests[Int(slot)]
            if oldDigest != record.digest {
                slotByDigest.remove(oldDigest.w0, slot: slot)
                slotByDigest.insert(record.digest.w0, slot: slot)
                slotDigests[Int(slot)] = record.digest
            }
            slots[Int(slot)] = stored
            return
        }
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = stored
            slotDigests[Int(slot)] = record.digest
            slotIDs[Int(slot)] = record.id
        } else {
            slot = Int32(slots.count)
            slots.append(stored)
            slotDigests.append(record.digest)
            slotIDs.append(record.id)
        }
        slotByID.insert(record.id.high, slot: slot)
        slotByDigest.insert(record.digest.w0, slot: slot)
        slotsByOwner[record.owner, default: []].append(slot)
    }

    /// Removes the record with `id`, returning it.
    @discardableResult
    mutating func remove(id: TokenID) -> TokenRecord? {
        guard let slot = slot(forID: id), let removed = record(at: slot), let stored = slots[Int(slot)] else {
            return nil
        }
        slotByID.remove(id.high, slot: slot)
        slotByDigest.remove(slotDigests[Int(slot)].w0, slot: slot)
        slots[Int(slot)] = nil
        freeSlots.append(slot)
        slotsByOwner[stored.owner]?.removeAll { $0 == slot }
        if slotsByOwner[stored.owner]?.isEmpty == true {
            slotsByOwner[stored.owner] = nil
        }
        return removed
    }

    /// Reserves room for `count` records, so that loading a large store does not rehash repeatedly.
    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        slotDigests.reserveCapacity(count)
        slotIDs.reserveCapacity(count)
        slotByDigest.reserveCapacity(count)
        slotByID.reserveCapacity(count)
    }
}

/// A record as the index keeps it: the fields of ``TokenRecord`` but its id and digest (which the
/// index keeps beside it), with optional dates stored as plain numbers (NaN for none) — which
/// counts at a million tokens.
struct StoredRecord: Sendable {
    var owner: String
    var name: String
    var scopes: Set<String>
    var allowedNetworks: [IPNetwork]
    var createdAt: Double
    var expiresAt: Double
    var lastUsedAt: Double
    var revokedAt: Double
    var disabledAt: Double

    init(_ record: TokenRecord) {
        owner = record.owner
        name = record.name
        scopes = record.scopes
        allowedNetworks = record.allowedNetworks
        createdAt = record.createdAt.timeIntervalSinceReferenceDate
        expiresAt = Self.number(record.expiresAt)
        lastUsedAt = Self.number(record.lastUsedAt)
        revokedAt = Self.number(record.revokedAt)
        disabledAt = Self.number(record.disabledAt)
    }

    func record(id: TokenID, digest: TokenDigest) -> TokenRecord {
        TokenRecord(
            id: id,
            owner: owner,
            name: name,
            createdAt: Date(timeIntervalSinceReferenceDate: createdAt),
            expiresAt: Self.date(expiresAt),
            scopes: scopes,
            allowedNetworks: allowedNetworks,
            lastUsedAt: Self.date(lastUsedAt),
            revokedAt: Self.date(revokedAt),
            disabledAt: Self.date(disabledAt),
            digest: digest
        )
    }

    private static func number(_ date: Date?) -> Double {
        date?.timeIntervalSinceReferenceDate ?? .nan
    }

    private static func date(_ number: Double) -> Date? {
        number.isNaN ? nil : Date(timeIntervalSinceReferenceDate: number)
    }
}
