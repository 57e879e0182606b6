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
    private var slots: [TokenRecord?] = []
    private var freeSlots: [Int32] = []
    private var slotByDigest: [TokenDigest: Int32] = [:]
    private var slotByID: [TokenID: Int32] = [:]
    private var slotsByOwner: [String: [Int32]] = [:]

    /// The number of records.
    var count: Int { slotByID.count }

    // MARK: Queries

    func record(forDigest digest: TokenDigest) -> TokenRecord? {
        guard let slot = slotByDigest[digest] else { return nil }
        return slots[Int(slot)]
    }

    func record(id: TokenID) -> TokenRecord? {
        guard let slot = slotByID[id] else { return nil }
        return slots[Int(slot)]
    }

    func records(owner: String) -> [TokenRecord] {
        (slotsByOwner[owner] ?? []).compactMap { slots[Int($0)] }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Every record, in no particular order.
    var allRecords: [TokenRecord] { slots.compactMap { $0 } }

    /// The number of slots, used and free: the bound for ``records(inSlots:)``.
    var slotCount: Int { slots.count }

    /// The records in a range of slots, so that a large index can be walked a piece at a time.
    func records(inSlots range: Range<Int>) -> [TokenRecord] {
        slots[range.clamped(to: 0..<slots.count)].compactMap { $0 }
    }

    // MARK: Contract checks

    /// Checks that `record` may be inserted.
    func prepareInsert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) throws(TokenKitError) {
        guard slotByID[record.id] == nil, slotByDigest[record.digest] == nil else {
            throw .duplicateToken(id: record.id)
        }
        let siblings = (slotsByOwner[record.owner] ?? []).compactMap { slots[Int($0)] }
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
                guard let other = slots[Int(slot)], other.id != id else { return false }
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
        if let slot = slotByID[record.id], let old = slots[Int(slot)] {
            if old.digest != record.digest {
                slotByDigest[old.digest] = nil
                slotByDigest[record.digest] = slot
            }
            slots[Int(slot)] = record
            return
        }
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = record
        } else {
            slot = Int32(slots.count)
            slots.append(record)
        }
        slotByID[record.id] = slot
        slotByDigest[record.digest] = slot
        slotsByOwner[record.owner, default: []].append(slot)
    }

    /// Removes the record with `id`, returning it.
    @discardableResult
    mutating func remove(id: TokenID) -> TokenRecord? {
        guard let slot = slotByID.removeValue(forKey: id), let record = slots[Int(slot)] else { return nil }
        slotByDigest[record.digest] = nil
        slots[Int(slot)] = nil
        freeSlots.append(slot)
        slotsByOwner[record.owner]?.removeAll { $0 == slot }
        if slotsByOwner[record.owner]?.isEmpty == true {
            slotsByOwner[record.owner] = nil
        }
        return record
    }

    /// Reserves room for `count` records, so that loading a large store does not rehash repeatedly.
    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        slotByDigest.reserveCapacity(count)
        slotByID.reserveCapacity(count)
    }
}
