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
        // As a server runs it: the manager's background work beside the validations, drained at the
        // end (cancellation writes what is pending).
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            // Validations that start before run() do are written inline, one call per token.
            while !manager.health.isRunning { await Task.yield() }
            for index in 0..<validations {
                _ = try await manager.validate(secrets[(index &* 7_919) % secrets.count])
            }
            group.cancelAll()
            try await group.waitForAll()
        }
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

    func bindHasher(_ identity: TokenHasherIdentity) throws { try inner.bindHasher(identity) }
    func record(forDigest digest: TokenDigest) -> TokenRecord? { inner.record(forDigest: digest) }
    func record(id: TokenID) -> TokenRecord? { inner.record(id: id) }
    func records(owner: String) -> [TokenRecord] { inner.records(owner: owner) }
    func records(expiringBetween start: Date, and end: Date) -> [TokenRecord] {
        inner.records(expiringBetween: start, and: end)
    }
    func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) throws {
        try inner.insert(record, maximumLiveTokensPerOwner: maximumLiveTokensPerOwner)
    }
    func rename(owner: String, name: String, to newName: String) throws -> TokenRecord {
        try inner.rename(owner: owner, name: name, to: newName)
    }
    func revoke(owner: String, name: String, at date: Date) throws -> LineageChange {
        try inner.revoke(owner: owner, name: name, at: date)
    }

    func revoke(id: TokenID, at date: Date) throws -> LineageChange { try inner.revoke(id: id, at: date) }

    func setDisabled(owner: String, name: String, at date: Date?, now: Date) throws -> LineageChange {
        try inner.setDisabled(owner: owner, name: name, at: date, now: now)
    }
    func changeLimits(_ change: TokenLimitsChange, owner: String, name: String, now: Date) throws -> LineageChange {
        try inner.changeLimits(change, owner: owner, name: name, now: now)
    }
    func delete(owner: String, name: String, now: Date) throws -> LineageChange {
        try inner.delete(owner: owner, name: name, now: now)
    }
    func delete(id: TokenID) throws -> TokenRecord { try inner.delete(id: id) }
    func rotate(
        owner: String,
        name: String,
        successor: TokenSuccessor,
        revokingPreviousAt graceEnd: Date
    ) throws
        -> LineageChange
    {
        try inner.rotate(owner: owner, name: name, successor: successor, revokingPreviousAt: graceEnd)
    }
    func revokeAll(owner: String, at date: Date) throws -> [TokenRecord] { try inner.revokeAll(owner: owner, at: date) }
    func purge(before cutoff: Date) -> [TokenRecord] { inner.purge(before: cutoff) }
    func recordUse(_ uses: [TokenID: Date]) throws {
        counts.withLock { $0 = ($0.calls + 1, $0.records + uses.count) }
        try inner.recordUse(uses)
    }
    func performMaintenance() async throws { try await inner.performMaintenance() }
}
