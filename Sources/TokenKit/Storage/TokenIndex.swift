import Foundation

/// The in-memory tables behind ``InMemoryTokenStore`` and `FileTokenStore`.
///
/// Every change reduces to ``put(_:)`` (add or replace a record) or ``remove(id:)``: the file store
/// writes exactly those to its log. The `plan…` methods (in `TokenIndex+Operations.swift`) check
/// the store contract and return the log entries of an operation without changing anything, so a
/// store can make the change durable first.
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
    /// The lineage of each slot whose record continues another token's lineage; most records
    /// start their own, so this stays small and costs no memory per token.
    private var slotLineages: [Int32: TokenID] = [:]
    /// The hasher the digests were made with, once bound.
    var hasher: TokenHasherIdentity?

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
        unorderedRecords(owner: owner).sorted(by: TokenStoreRules.isOlder)
    }

    /// Every record, one at a time, in no particular order: filtering it materialises only the
    /// records kept, not a million at once.
    var allRecords: some Sequence<TokenRecord> {
        (0..<slots.count).lazy.compactMap { record(at: Int32($0)) }
    }

    /// The record in `slot`, or `nil` for a free slot.
    private func record(at slot: Int32) -> TokenRecord? {
        let index = Int(slot)
        let lineage = slotLineages.isEmpty ? nil : slotLineages[slot]
        return slots[index]?.record(id: slotIDs[index], digest: slotDigests[index], lineageID: lineage)
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

    /// The owner's records, in no particular order.
    func unorderedRecords(owner: String) -> [TokenRecord] {
        (slotsByOwner[owner] ?? []).compactMap(record(at:))
    }

    /// Whether a record with `id` or `digest` is stored.
    func holds(id: TokenID, orDigest digest: TokenDigest) -> Bool {
        slot(forID: id) != nil || slot(forDigest: digest) != nil
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
            setLineage(of: record, in: slot)
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
        setLineage(of: record, in: slot)
    }

    private mutating func setLineage(of record: TokenRecord, in slot: Int32) {
        if record.lineageID != record.id {
            slotLineages[slot] = record.lineageID
        } else if !slotLineages.isEmpty {
            slotLineages[slot] = nil
        }
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
        slotLineages[slot] = nil
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

    func record(id: TokenID, digest: TokenDigest, lineageID: TokenID?) -> TokenRecord {
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
            digest: digest,
            lineageID: lineageID
        )
    }

    private static func number(_ date: Date?) -> Double {
        date?.timeIntervalSinceReferenceDate ?? .nan
    }

    private static func date(_ number: Double) -> Date? {
        number.isNaN ? nil : Date(timeIntervalSinceReferenceDate: number)
    }
}
