import Foundation
import Synchronization
import TokenKit

/// How many store writes last-used tracking causes: 1,000,000 validations spread over 1,000 tokens.
enum LastUsedBenchmark {
    static func run(quick: Bool) async throws -> Report.Row {
        let store = CountingStore()
        let manager = TokenManager(store: store)
        var secrets: [String] = []
        for index in 0..<1_000 {
            secrets.append(try await manager.create(owner: "user\(index / 10)", name: "t\(index % 10)").secret)
        }
        let validations = quick ? 100_000 : 1_000_000
        for index in 0..<validations {
            _ = try await manager.validate(secrets[(index &* 7_919) % secrets.count])
        }
        try await manager.flushUsage()
        let (calls, records) = store.writes
        return Report.Row(
            benchmark: "\(validations.formatted()) validations over 1,000 tokens: store writes (records)",
            tokenKit: "\(calls) (\(records))",
            peer: "\(validations.formatted()) (Sanctum-style write per use)",
            ratio: Format.ratio(Double(validations) / Double(max(calls, 1))) + " fewer writes",
            target: "≤ 1 record per token per minute"
        )
    }
}

/// An in-memory store that counts `recordUse` calls and the records they carry.
private final class CountingStore: TokenStore {
    private let inner = InMemoryTokenStore()
    private let counts = Mutex<(calls: Int, records: Int)>((0, 0))

    var writes: (calls: Int, records: Int) { counts.withLock { $0 } }

    func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) throws {
        try inner.insert(record, maximumLiveTokensPerOwner: maximumLiveTokensPerOwner)
    }
    func record(forDigest digest: TokenDigest) -> TokenRecord? { inner.record(forDigest: digest) }
    func record(id: TokenID) -> TokenRecord? { inner.record(id: id) }
    func records(owner: String) -> [TokenRecord] { inner.records(owner: owner) }
    func update(id: TokenID, _ change: @escaping @Sendable (inout TokenRecord) throws -> Void) throws -> TokenRecord {
        try inner.update(id: id, change)
    }
    func revokeAll(owner: String, at date: Date) -> [TokenRecord] { inner.revokeAll(owner: owner, at: date) }
    func delete(id: TokenID) throws { try inner.delete(id: id) }
    func replace(id: TokenID, revokingAt date: Date, with replacement: TokenRecord) throws -> TokenRecord {
        try inner.replace(id: id, revokingAt: date, with: replacement)
    }
    func purge(before cutoff: Date) -> [TokenRecord] { inner.purge(before: cutoff) }
    func records(expiringBetween start: Date, and end: Date) -> [TokenRecord] {
        inner.records(expiringBetween: start, and: end)
    }
    func recordUse(_ uses: [TokenID: Date]) {
        counts.withLock { $0 = ($0.calls + 1, $0.records + uses.count) }
        inner.recordUse(uses)
    }
}
