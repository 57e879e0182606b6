import Foundation
import Synchronization
import TokenKit

/// A deliberately broken store that never checks name uniqueness, to prove the conformance suite
/// catches such a store.
final class NameBlindStore: TokenStore {
    private let records = Mutex<[TokenRecord]>([])

    func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) {
        records.withLock { $0.append(record) }
    }

    func record(forDigest digest: TokenDigest) -> TokenRecord? {
        records.withLock { $0.first { $0.digest == digest } }
    }

    func record(id: TokenID) -> TokenRecord? {
        records.withLock { $0.first { $0.id == id } }
    }

    func records(owner: String) -> [TokenRecord] {
        records.withLock { $0.filter { $0.owner == owner }.sorted { $0.createdAt < $1.createdAt } }
    }

    func update(id: TokenID, _ change: @escaping @Sendable (inout TokenRecord) throws -> Void) throws -> TokenRecord {
        try records.withLock { records in
            guard let index = records.firstIndex(where: { $0.id == id }) else {
                throw TokenKitError.tokenNotFound(id: id)
            }
            try change(&records[index])
            return records[index]
        }
    }

    func revokeAll(owner: String, at date: Date) -> [TokenRecord] {
        records.withLock { records in
            var changed: [TokenRecord] = []
            for index in records.indices where records[index].owner == owner && records[index].holdsName {
                records[index].revokedAt = date
                changed.append(records[index])
            }
            return changed
        }
    }

    func delete(id: TokenID) throws {
        try records.withLock { records in
            guard let index = records.firstIndex(where: { $0.id == id }) else {
                throw TokenKitError.tokenNotFound(id: id)
            }
            records.remove(at: index)
        }
    }

    func replace(id: TokenID, revokingAt date: Date, with replacement: TokenRecord) throws -> TokenRecord {
        let old = try update(id: id) { $0.revokedAt = date }
        insert(replacement, maximumLiveTokensPerOwner: nil)
        return old
    }

    func purge(before cutoff: Date) -> [TokenRecord] {
        records.withLock { records in
            let purged = records.filter { $0.isRevoked(at: cutoff) || $0.isExpired(at: cutoff) }
            records.removeAll { $0.isRevoked(at: cutoff) || $0.isExpired(at: cutoff) }
            return purged
        }
    }

    func records(expiringBetween start: Date, and end: Date) -> [TokenRecord] {
        records.withLock { records in
            records.filter { ($0.expiresAt.map { $0 >= start && $0 < end } ?? false) && !$0.isRevoked(at: start) }
                .sorted { $0.expiresAt! < $1.expiresAt! }
        }
    }

    func recordUse(_ uses: [TokenID: Date]) {
        records.withLock { records in
            for index in records.indices {
                if let date = uses[records[index].id], records[index].lastUsedAt.map({ $0 < date }) ?? true {
                    records[index].lastUsedAt = date
                }
            }
        }
    }
}
