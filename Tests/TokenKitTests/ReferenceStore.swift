import Foundation
import Synchronization
import TokenKit

/// A plain store over an array, written only from the public `TokenStore` contract and
/// `TokenStoreRules` — as a third party would write one — with switchable defects, to prove that
/// the conformance suite catches each.
final class ReferenceStore: TokenStore {
    /// A way to break the contract.
    enum Defect: CaseIterable, Sendable {
        /// Never checks name uniqueness.
        case ignoresNames
        /// Keeps dates to the whole second, as a `DATETIME` column without fractions would.
        case roundsDatesToSeconds
        /// Applies by-name changes to the name-holder only, not to its predecessors in grace.
        case ignoresLineage
        /// Skips `TokenStoreRules` input checks.
        case skipsInputChecks
        /// Accepts any hasher.
        case acceptsAnyHasher
        /// Stores an inserted record whatever its lineage.
        case acceptsForeignLineage
        /// Gives a successor no scopes (a rotation that forgets to copy the old token's limits).
        case rotationDropsScopes
        /// Opens second handles on a separate, empty backing store.
        case isolatedHandles
        /// Answers `immediateRecord(forDigest:)` from a copy taken at the first insert: stale.
        case staleImmediateLookups
        /// Answers `immediateRecord(forDigest:)` from what `record(forDigest:)` found before,
        /// never refreshed, and a digest it has not seen as not found.
        case immediateFromUnrefreshedCache
    }

    /// The data every handle on one backing store shares.
    final class Backing: Sendable {
        let state = Mutex<(records: [TokenRecord], hasher: TokenHasherIdentity?)>(([], nil))
    }

    let backing: Backing
    let defects: Set<Defect>
    /// The records as the first insert left them (for `staleImmediateLookups`).
    private let firstInserted = Mutex<[TokenRecord]?>(nil)
    /// What `record(forDigest:)` found, by digest (for `immediateFromUnrefreshedCache`).
    private let lookedUp = Mutex<[TokenDigest: TokenRecord?]>([:])

    init(defects: Set<Defect> = [], backing: Backing = Backing()) {
        self.defects = defects
        self.backing = backing
    }

    /// A second handle on the same backing store (or, with `isolatedHandles`, on a new one).
    func secondHandle() -> ReferenceStore {
        ReferenceStore(defects: defects, backing: defects.contains(.isolatedHandles) ? Backing() : backing)
    }

    // MARK: TokenStore

    func bindHasher(_ identity: TokenHasherIdentity) throws {
        try backing.state.withLock { state in
            guard let stored = state.hasher else {
                state.hasher = identity
                return
            }
            if stored != identity && !defects.contains(.acceptsAnyHasher) {
                throw TokenKitError.hasherMismatch(stored: stored, given: identity)
            }
        }
    }

    func record(forDigest digest: TokenDigest) -> TokenRecord? {
        let record = backing.state.withLock { $0.records.first { $0.digest == digest } }
        lookedUp.withLock { $0[digest] = .some(record) }
        return record
    }

    func immediateRecord(forDigest digest: TokenDigest) -> ImmediateLookup {
        if defects.contains(.immediateFromUnrefreshedCache) {
            let cached = lookedUp.withLock { $0[digest] ?? nil }
            return cached.map(ImmediateLookup.found) ?? .notFound
        }
        let records = defects.contains(.staleImmediateLookups) ? firstInserted.withLock { $0 } : nil
        let record = records.map { $0.first { $0.digest == digest } } ?? record(forDigest: digest)
        return record.map(ImmediateLookup.found) ?? .notFound
    }

    func record(id: TokenID) -> TokenRecord? {
        backing.state.withLock { $0.records.first { $0.id == id } }
    }

    func records(owner: String) -> [TokenRecord] {
        backing.state.withLock { $0.records.filter { $0.owner == owner }.sorted(by: TokenStoreRules.isOlder) }
    }

    func records(expiringBetween start: Date, and end: Date) -> [TokenRecord] {
        backing.state.withLock { state in
            state.records.filter { TokenStoreRules.isExpiring($0, between: start, and: end) }
                .sorted { ($0.expiresAt!, $0.id) < ($1.expiresAt!, $1.id) }
        }
    }

    func insert(_ record: TokenRecord, maximumLiveTokensPerOwner limit: Int?) throws {
        if !defects.contains(.skipsInputChecks) {
            // The defect: check everything but the lineage.
            let checked = defects.contains(.acceptsForeignLineage) ? Self.ownLineage(record) : record
            try TokenStoreRules.checkNewRecord(checked)
        }
        let record = stored(record)
        try backing.state.withLock { state in
            guard !state.records.contains(where: { $0.id == record.id || $0.digest == record.digest }) else {
                throw TokenKitError.duplicateToken(id: record.id)
            }
            let siblings = state.records.filter { $0.owner == record.owner }
            if !defects.contains(.ignoresNames), record.holdsName,
                siblings.contains(where: { $0.holdsName && $0.name == record.name })
            {
                throw TokenKitError.duplicateName(record.name, renaming: false)
            }
            if let limit, siblings.count(where: { TokenStoreRules.isLive($0, at: record.createdAt) }) >= limit {
                throw TokenKitError.tokenLimitReached(owner: record.owner, limit: limit)
            }
            state.records.append(record)
            let records = state.records
            firstInserted.withLock { $0 = $0 ?? records }
        }
    }

    func rename(owner: String, name: String, to newName: String) throws -> TokenRecord {
        if !defects.contains(.skipsInputChecks) { try TokenStoreRules.checkName(newName) }
        return try backing.state.withLock { state in
            let index = try holderIndex(owner: owner, name: name, in: state.records)
            if !defects.contains(.ignoresNames),
                state.records.contains(where: { $0.owner == owner && $0.holdsName && $0.name == newName })
            {
                throw TokenKitError.duplicateName(newName, renaming: true)
            }
            state.records[index].name = newName
            return state.records[index]
        }
    }

    func revoke(owner: String, name: String, at date: Date) throws -> LineageChange {
        try checkDate(date)
        return try changeLineage(owner: owner, name: name, now: date) { TokenStoreRules.revoked($0, at: date) }
    }

    func revoke(id: TokenID, at date: Date) throws -> LineageChange {
        try checkDate(date)
        return try backing.state.withLock { state in
            guard let record = state.records.first(where: { $0.id == id }) else {
                throw TokenKitError.tokenNotFound(id: id)
            }
            let followers =
                defects.contains(.ignoresLineage)
                ? []
                : state.records.filter {
                    TokenStoreRules.precedes($0, record, at: date)
                }
            var written: [TokenRecord] = []
            for target in [record] + followers.sorted(by: TokenStoreRules.isOlder) {
                let index = state.records.firstIndex { $0.id == target.id }!
                state.records[index] = stored(TokenStoreRules.revoked(target, at: date))
                written.append(state.records[index])
            }
            return LineageChange(token: written[0], predecessors: Array(written.dropFirst()))
        }
    }

    func setDisabled(owner: String, name: String, at date: Date?, now: Date) throws -> LineageChange {
        if let date { try checkDate(date) }
        return try changeLineage(owner: owner, name: name, now: now) { TokenStoreRules.disabled($0, at: date) }
    }

    func changeLimits(_ change: TokenLimitsChange, owner: String, name: String, now: Date) throws -> LineageChange {
        if !defects.contains(.skipsInputChecks) { try TokenStoreRules.checkLimits(change) }
        return try changeLineage(owner: owner, name: name, now: now) { TokenStoreRules.limited($0, by: change) }
    }

    func delete(owner: String, name: String, now: Date) throws -> LineageChange {
        try changeLineage(owner: owner, name: name, now: now) { _ in nil }
    }

    func delete(id: TokenID) throws -> TokenRecord {
        try backing.state.withLock { state in
            guard let index = state.records.firstIndex(where: { $0.id == id }) else {
                throw TokenKitError.tokenNotFound(id: id)
            }
            return state.records.remove(at: index)
        }
    }

    func rotate(
        owner: String,
        name: String,
        successor: TokenSuccessor,
        revokingPreviousAt graceEnd: Date
    ) throws
        -> LineageChange
    {
        try checkDate(graceEnd)
        return try backing.state.withLock { state in
            let index = try holderIndex(owner: owner, name: name, in: state.records)
            guard !state.records.contains(where: { $0.id == successor.id || $0.digest == successor.digest }) else {
                throw TokenKitError.duplicateToken(id: successor.id)
            }
            let previous = stored(TokenStoreRules.revoked(state.records[index], at: graceEnd))
            var next = stored(TokenStoreRules.successor(of: state.records[index], successor))
            if defects.contains(.rotationDropsScopes) { next.scopes = [] }
            state.records[index] = previous
            state.records.append(next)
            return LineageChange(token: next, predecessors: [previous])
        }
    }

    func revokeAll(owner: String, at date: Date) throws -> [TokenRecord] {
        try checkDate(date)
        return backing.state.withLock { state in
            var revoked: [TokenRecord] = []
            for index in state.records.indices where state.records[index].owner == owner {
                let record = state.records[index]
                guard record.holdsName || TokenStoreRules.isInGrace(record, at: date) else { continue }
                state.records[index] = stored(TokenStoreRules.revoked(record, at: date))
                revoked.append(state.records[index])
            }
            return revoked
        }
    }

    func purge(before cutoff: Date) -> [TokenRecord] {
        backing.state.withLock { state in
            let purged = state.records.filter { TokenStoreRules.isPurged($0, before: cutoff) }
            state.records.removeAll { TokenStoreRules.isPurged($0, before: cutoff) }
            return purged
        }
    }

    func recordUse(_ uses: [TokenID: Date]) throws {
        for date in uses.values { try checkDate(date) }
        backing.state.withLock { state in
            for index in state.records.indices {
                if let date = uses[state.records[index].id], state.records[index].lastUsedAt.map({ $0 < date }) ?? true
                {
                    state.records[index].lastUsedAt = roundedIfDefective(date)
                }
            }
        }
    }

    // MARK: Helpers

    /// `record` as the start of its own lineage.
    private static func ownLineage(_ record: TokenRecord) -> TokenRecord {
        TokenRecord(
            id: record.id,
            owner: record.owner,
            name: record.name,
            createdAt: record.createdAt,
            expiresAt: record.expiresAt,
            scopes: record.scopes,
            allowedNetworks: record.allowedNetworks,
            lastUsedAt: record.lastUsedAt,
            revokedAt: record.revokedAt,
            disabledAt: record.disabledAt,
            digest: record.digest
        )
    }

    private func holderIndex(owner: String, name: String, in records: [TokenRecord]) throws -> Int {
        guard let index = records.firstIndex(where: { $0.owner == owner && $0.holdsName && $0.name == name }) else {
            throw TokenKitError.tokenNotFound(owner: owner, name: name)
        }
        return index
    }

    private func changeLineage(
        owner: String,
        name: String,
        now: Date,
        _ change: (TokenRecord) -> TokenRecord?
    ) throws -> LineageChange {
        try backing.state.withLock { state in
            let holder = state.records[try holderIndex(owner: owner, name: name, in: state.records)]
            let followers =
                defects.contains(.ignoresLineage)
                ? []
                : state.records.filter {
                    TokenStoreRules.followsHolder($0, holder, at: now)
                }
            var written: [TokenRecord] = []
            for record in [holder] + followers.sorted(by: TokenStoreRules.isOlder) {
                let index = state.records.firstIndex { $0.id == record.id }!
                if let changed = change(record) {
                    state.records[index] = stored(changed)
                    written.append(state.records[index])
                } else {
                    state.records.remove(at: index)
                    written.append(record)
                }
            }
            return LineageChange(token: written[0], predecessors: Array(written.dropFirst()))
        }
    }

    private func checkDate(_ date: Date) throws {
        if !defects.contains(.skipsInputChecks) { try TokenStoreRules.checkDate(date) }
    }

    /// The record as this store keeps it.
    private func stored(_ record: TokenRecord) -> TokenRecord {
        guard defects.contains(.roundsDatesToSeconds) else { return record }
        return TokenRecord(
            id: record.id,
            owner: record.owner,
            name: record.name,
            createdAt: roundedIfDefective(record.createdAt),
            expiresAt: record.expiresAt.map(roundedIfDefective),
            scopes: record.scopes,
            allowedNetworks: record.allowedNetworks,
            lastUsedAt: record.lastUsedAt.map(roundedIfDefective),
            revokedAt: record.revokedAt.map(roundedIfDefective),
            disabledAt: record.disabledAt.map(roundedIfDefective),
            digest: record.digest,
            lineageID: record.lineageID
        )
    }

    private func roundedIfDefective(_ date: Date) -> Date {
        guard defects.contains(.roundsDatesToSeconds) else { return date }
        return Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
}
