import Foundation

/// The in-memory tables behind ``InMemoryTokenStore`` and `FileTokenStore`.
///
/// Every change reduces to ``put(_:)`` (add or replace a record) or ``remove(id:)``: the file store
/// writes exactly those to its log. The `plan…` methods (in `TokenIndex+Operations.swift`) check
/// the store contract and return the log entries of an operation without changing anything, so a
/// store can make the change durable first.
///
/// ## Layout
/// Each record has a ``Slot`` in one array, laid out in the order a validation reads it:
/// - the digest (compared by the look-up), then the ``DecisionEntry`` (dates, owner, scope set,
///   allow-list, disabled): everything ``validate(digest:_:recordingRejections:)`` decides on;
/// - then the id and name, read only when a record is built.
///
/// Owners, scope sets and allow-lists are interned (``Interner``): an entry holds their numbers.
/// The rare fields are kept sparse, by slot: when a token was disabled, and the lineage of a token
/// issued by rotation. An owner's slots form a chain through `nextSlotOfOwner`, so an owner costs
/// no list of its own. At a million tokens this comes to about 147 bytes a token, the two hash
/// tables included.
struct TokenIndex: Sendable {
    private var slots: [Slot] = []
    /// The next slot of the same owner, or -1 at the end of its chain.
    private var nextSlotOfOwner: [Int32] = []
    /// The first slot of each owner's chain, by owner number.
    private var firstSlotOfOwner: [Int32] = []
    private var freeSlots: [Int32] = []
    private var slotByDigest = SlotTable()
    private var slotByID = SlotTable()
    private var owners = Interner<String>()
    private var scopeSets = Interner<Set<String>>()
    private var networkLists = Interner<[IPNetwork]>()
    /// When each disabled token was disabled; most tokens are enabled.
    private var disabledDates: [Int32: Double] = [:]
    /// The lineage of each slot whose record continues another token's lineage; most records start
    /// their own.
    private var lineages: [Int32: TokenID] = [:]
    /// The hasher the digests were made with, once bound.
    var hasher: TokenHasherIdentity?

    /// The number of records.
    var count: Int { slotByID.count }

    /// How many distinct owners, scope sets and allow-lists the records refer to (for tests: none
    /// is kept once nothing refers to it).
    var sharedValueCounts: (owners: Int, scopeSets: Int, networkLists: Int) {
        (owners.count, scopeSets.count, networkLists.count)
    }

    // MARK: Validation

    /// Validates the token with `digest` against `request` from the inline entry alone, and builds
    /// the record only when the answer carries it: for a valid token, and for a rejected one when
    /// `recordingRejections` (the audit names the token).
    @inline(__always)
    func validate(
        digest: TokenDigest,
        _ request: ValidationRequest,
        recordingRejections: Bool
    ) -> IndexValidation {
        guard let slot = slot(forDigest: digest) else { return .notFound }
        let entry = slots[Int(slot)].entry
        let problem = request.problem(
            revokedAt: entry.revokedAt,
            expiresAt: entry.expiresAt,
            isDisabled: entry.isDisabled,
            idleSince: entry.lastUsedAt.isNaN ? entry.createdAt : entry.lastUsedAt,
            ownerIs: { owners.value(entry.owner) == $0 },
            allows: { address in
                entry.networks == 0 || address.map { networkLists.value(entry.networks).allow($0) } == true
            },
            grants: { entry.scopes == 0 || $0.isSubset(of: scopeSets.value(entry.scopes)) }
        )
        guard let problem else { return .valid(record(at: slot)) }
        return .rejected(problem, recordingRejections ? record(at: slot) : nil)
    }

    // MARK: Queries

    func record(forDigest digest: TokenDigest) -> TokenRecord? {
        slot(forDigest: digest).map(record(at:))
    }

    func record(id: TokenID) -> TokenRecord? {
        slot(forID: id).map(record(at:))
    }

    func records(owner: String) -> [TokenRecord] {
        unorderedRecords(owner: owner).sorted(by: TokenStoreRules.isOlder)
    }

    /// Every record, one at a time, in no particular order: filtering it materialises only the
    /// records kept, not a million at once.
    var allRecords: some Sequence<TokenRecord> {
        (0..<slots.count).lazy.filter { slots[$0].entry.isLive }.map { record(at: Int32($0)) }
    }

    /// The record in a live `slot`.
    private func record(at slot: Int32) -> TokenRecord {
        let stored = slots[Int(slot)]
        let entry = stored.entry
        return TokenRecord(
            id: stored.id,
            owner: owners.value(entry.owner),
            name: stored.name,
            createdAt: Date(timeIntervalSinceReferenceDate: entry.createdAt),
            expiresAt: Self.date(entry.expiresAt),
            scopes: entry.scopes == 0 ? [] : scopeSets.value(entry.scopes),
            allowedNetworks: entry.networks == 0 ? [] : networkLists.value(entry.networks),
            lastUsedAt: Self.date(entry.lastUsedAt),
            revokedAt: Self.date(entry.revokedAt),
            disabledAt: entry.isDisabled ? disabledDates[slot].map(Date.init(timeIntervalSinceReferenceDate:)) : nil,
            digest: stored.digest,
            lineageID: lineages.isEmpty ? nil : lineages[slot]
        )
    }

    /// The number of slots, used and free: the bound for ``records(inSlots:)``.
    var slotCount: Int { slots.count }

    /// The records in a range of slots, so that a large index can be walked a piece at a time.
    func records(inSlots range: Range<Int>) -> [TokenRecord] {
        range.clamped(to: 0..<slots.count).filter { slots[$0].entry.isLive }.map { record(at: Int32($0)) }
    }

    // A live slot's digest and id are current, and only live slots are in the tables, so comparing
    // the parallel arrays is enough.
    @inline(__always)
    private func slot(forDigest digest: TokenDigest) -> Int32? {
        slots.withUnsafeBufferPointer { slots in
            slotByDigest.find(digest.w0) { slots[Int($0)].digest == digest }
        }
    }

    private func slot(forID id: TokenID) -> Int32? {
        slots.withUnsafeBufferPointer { slots in
            slotByID.find(id.high) { slots[Int($0)].id == id }
        }
    }

    /// The owner's slots, following its chain.
    private func slots(owner: String) -> [Int32] {
        guard let number = owners.number(of: owner) else { return [] }
        var slots: [Int32] = []
        var slot = firstSlotOfOwner[Int(number)]
        while slot >= 0 {
            slots.append(slot)
            slot = nextSlotOfOwner[Int(slot)]
        }
        return slots
    }

    /// The owner's records, in no particular order.
    func unorderedRecords(owner: String) -> [TokenRecord] {
        slots(owner: owner).map(record(at:))
    }

    /// Whether a record with `id` or `digest` is stored.
    func contains(id: TokenID) -> Bool { slot(forID: id) != nil }

    func contains(digest: TokenDigest) -> Bool { slot(forDigest: digest) != nil }

    func holds(id: TokenID, orDigest digest: TokenDigest) -> Bool {
        slot(forID: id) != nil || slot(forDigest: digest) != nil
    }

    // MARK: Changes

    /// Adds `record`, or replaces the record with its id.
    mutating func put(_ record: TokenRecord) {
        guard let slot = slot(forID: record.id) else {
            insert(record)
            return
        }
        if owners.value(slots[Int(slot)].entry.owner) == record.owner {
            replace(slot, with: record)
        } else {
            // Stores never change a record's owner (the file store's reader refuses a log that
            // does); were one to, the record moves to the new owner's chain.
            remove(id: record.id)
            insert(record)
        }
    }

    /// Puts `record` in `slot`, which holds an earlier version of it with the same owner.
    private mutating func replace(_ slot: Int32, with record: TokenRecord) {
        let index = Int(slot)
        if slots[index].digest != record.digest {
            slotByDigest.remove(slots[index].digest.w0, slot: slot)
            slotByDigest.insert(record.digest.w0, slot: slot)
            slots[index].digest = record.digest
        }
        // The new entry takes its references before the old one drops its own, so that a scope
        // set or allow-list that both hold is not dropped and interned again.
        let old = slots[index].entry
        slots[index].entry = entry(for: record, owner: old.owner)
        release(old, keepingOwner: true)
        slots[index].name = record.name
        setSparseFields(of: record, in: slot)
    }

    /// Adds `record`, whose id the index does not hold.
    private mutating func insert(_ record: TokenRecord) {
        let owner = owners.retain(record.owner)
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = Slot(
                digest: record.digest,
                entry: entry(for: record, owner: owner),
                id: record.id,
                name: record.name
            )
        } else {
            slot = Int32(slots.count)
            slots.append(
                Slot(digest: record.digest, entry: entry(for: record, owner: owner), id: record.id, name: record.name)
            )
            nextSlotOfOwner.append(-1)
        }
        if firstSlotOfOwner.count < owners.numberBound {
            firstSlotOfOwner.append(contentsOf: repeatElement(-1, count: owners.numberBound - firstSlotOfOwner.count))
        }
        nextSlotOfOwner[Int(slot)] = firstSlotOfOwner[Int(owner)]
        firstSlotOfOwner[Int(owner)] = slot
        slotByID.insert(record.id.high, slot: slot)
        slotByDigest.insert(record.digest.w0, slot: slot)
        setSparseFields(of: record, in: slot)
    }

    /// The inline entry for `record`, counting a reference to its scope set and allow-list.
    private mutating func entry(for record: TokenRecord, owner: UInt32) -> DecisionEntry {
        DecisionEntry(
            expiresAt: Self.number(record.expiresAt),
            revokedAt: Self.number(record.revokedAt),
            lastUsedAt: Self.number(record.lastUsedAt),
            createdAt: record.createdAt.timeIntervalSinceReferenceDate,
            owner: owner,
            scopes: record.scopes.isEmpty ? 0 : scopeSets.retain(record.scopes),
            networks: record.allowedNetworks.isEmpty ? 0 : networkLists.retain(record.allowedNetworks),
            isLive: true,
            isDisabled: record.disabledAt != nil
        )
    }

    /// Drops the references `entry` holds.
    private mutating func release(_ entry: DecisionEntry, keepingOwner: Bool) {
        if entry.scopes != 0 { scopeSets.release(entry.scopes) }
        if entry.networks != 0 { networkLists.release(entry.networks) }
        if !keepingOwner { owners.release(entry.owner) }
    }

    private mutating func setSparseFields(of record: TokenRecord, in slot: Int32) {
        if let disabledAt = record.disabledAt {
            disabledDates[slot] = disabledAt.timeIntervalSinceReferenceDate
        } else if !disabledDates.isEmpty {
            disabledDates[slot] = nil
        }
        if record.lineageID != record.id {
            lineages[slot] = record.lineageID
        } else if !lineages.isEmpty {
            lineages[slot] = nil
        }
    }

    /// Removes the record with `id`, returning it.
    @discardableResult
    mutating func remove(id: TokenID) -> TokenRecord? {
        guard let slot = slot(forID: id) else { return nil }
        let index = Int(slot)
        let removed = record(at: slot)
        let entry = slots[index].entry
        unlink(slot, owner: entry.owner)
        slotByID.remove(id.high, slot: slot)
        slotByDigest.remove(slots[index].digest.w0, slot: slot)
        release(entry, keepingOwner: false)
        slots[index].entry.isLive = false
        slots[index].name = ""
        disabledDates[slot] = nil
        lineages[slot] = nil
        freeSlots.append(slot)
        return removed
    }

    /// Takes `slot` out of its owner's chain.
    private mutating func unlink(_ slot: Int32, owner: UInt32) {
        let next = nextSlotOfOwner[Int(slot)]
        if firstSlotOfOwner[Int(owner)] == slot {
            firstSlotOfOwner[Int(owner)] = next
        } else {
            var previous = firstSlotOfOwner[Int(owner)]
            while nextSlotOfOwner[Int(previous)] != slot { previous = nextSlotOfOwner[Int(previous)] }
            nextSlotOfOwner[Int(previous)] = next
        }
        nextSlotOfOwner[Int(slot)] = -1
    }

    /// Reserves room for `count` records, so that loading a large store does not rehash repeatedly.
    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        nextSlotOfOwner.reserveCapacity(count)
        slotByDigest.reserveCapacity(count)
        slotByID.reserveCapacity(count)
    }

    private static func number(_ date: Date?) -> Double {
        date?.timeIntervalSinceReferenceDate ?? .nan
    }

    private static func date(_ number: Double) -> Date? {
        number.isNaN ? nil : Date(timeIntervalSinceReferenceDate: number)
    }
}

/// One record's place in the index: what a validation reads first (the digest it compares, then
/// the decision entry), then what building the record adds. 112 bytes, read from two or three
/// adjacent cache lines.
struct Slot: Sendable {
    var digest: TokenDigest
    var entry: DecisionEntry
    var id: TokenID
    var name: String
}

/// What the index keeps inline for each slot: every field a validation decides on, in 48 bytes.
/// Optional dates are plain numbers (seconds since 2001), NaN for none.
struct DecisionEntry: Sendable {
    var expiresAt: Double
    var revokedAt: Double
    var lastUsedAt: Double
    var createdAt: Double
    /// The owner's number in the index's owners.
    var owner: UInt32
    /// The scope set's number, or 0 for full access.
    var scopes: UInt32
    /// The allow-list's number, or 0 for anywhere.
    var networks: UInt32
    /// Whether the slot holds a record; a free slot keeps stale values.
    var isLive: Bool
    var isDisabled: Bool
}

/// The index's answer to ``TokenIndex/validate(digest:_:recordingRejections:)``.
enum IndexValidation: Equatable {
    case notFound
    /// Rejected, with the record when it was asked for.
    case rejected(RejectionReason, TokenRecord?)
    case valid(TokenRecord)
}
