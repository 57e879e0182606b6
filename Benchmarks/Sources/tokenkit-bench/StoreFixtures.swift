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

    /// Fills a new file store at `path` with `count` tokens (without syncing each write, to save
    /// time) and returns their secrets.
    @discardableResult
    static func makeFileStore(at path: String, count: Int) async throws -> [String] {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + ".lock")
        let store = try FileTokenStore(path: path, options: .init(durability: .unsynchronized))
        var secrets: [String] = []
        secrets.reserveCapacity(count)
        let batch = 1_000
        for first in stride(from: 0, to: count, by: batch) {
            let tokens = (first..<min(first + batch, count)).map { token($0) }
            secrets += tokens.map(\.secret)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for token in tokens {
                    group.addTask { try await store.insert(token.record, maximumLiveTokensPerOwner: nil) }
                }
                try await group.waitForAll()
            }
        }
        return secrets
    }
}
