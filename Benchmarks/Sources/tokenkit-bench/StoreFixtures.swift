import Foundation
import TokenKit

/// Realistic token records: owners of 10 tokens each ("user123456"), names like "deploy-3", one
/// year expiries, and every fifth token with two scopes.
enum StoreFixtures {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// The record and secret of token `index`.
    static func token(_ index: Int, hasher: any TokenHasher = SHA256Hasher()) -> (record: TokenRecord, secret: String) {
        let secret = TokenFormat.default.generate()
        let record = TokenRecord(
            id: .random(),
            owner: "user\(100_000 + index / 10)",
            name: ["deploy", "ci", "backup", "monitor", "api"][index % 5] + "-\(index % 10)",
            createdAt: start,
            expiresAt: start + 365 * 86_400,
            scopes: index % 5 == 0 ? ["dns:read", "email"] : [],
            digest: hasher.digest(of: secret)
        )
        return (record, secret)
    }

    /// Writes `records` to a new file store at `path` (without syncing each write, to save time).
    static func makeFileStore(at path: String, records: [TokenRecord]) async throws {
        // `try?` is safe: a file that is not there needs no removing, and one that cannot be
        // removed makes the store below fail to open.
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + ".lock")
        try? FileManager.default.removeItem(atPath: path + ".index")
        let store = try FileTokenStore(path: path, options: .init(durability: .unsynchronized))
        // Bound as a server's first call binds it, so that a manager opening the store later
        // does not write the binding while it is being timed.
        try await store.bindHasher(SHA256Hasher().identity)
        for first in stride(from: 0, to: records.count, by: 1_000) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for record in records[first..<min(first + 1_000, records.count)] {
                    group.addTask { try await store.insert(record, maximumLiveTokensPerOwner: nil) }
                }
                try await group.waitForAll()
            }
        }
        // As after a bulk import, or the store's own compaction: the log holds one snapshot, and
        // the index file beside it describes it.
        try await store.compact()
    }

    /// Writes `records` to a new SQLite database at `path`, in one transaction.
    static func makeSQLite(at path: String, records: [TokenRecord]) throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let table = try SQLiteTokenTable(path: path)
        try table.execute("BEGIN")
        for record in records { try table.insert(record) }
        try table.execute("COMMIT")
        try table.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}
