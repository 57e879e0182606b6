import Foundation
import Synchronization
import TokenKit

/// Wraps a store so that a test controls its last-used writes and maintenance: `recordUse` can be
/// held at a gate or made to fail, and `performMaintenance` can be made to fail.
final class GatedStore: TokenStore {
    let inner = InMemoryTokenStore()
    private struct State {
        var gateOpen = true
        var waiting: [CheckedContinuation<Void, Never>] = []
        var writesStarted = 0
        var failWrites = false
        var failMaintenance = false
        var maintenanceCalls = 0
    }
    private let state = Mutex(State())

    struct InjectedFailure: Error, CustomStringConvertible {
        var description: String { "injected failure" }
    }

    var writesStarted: Int { state.withLock { $0.writesStarted } }
    var maintenanceCalls: Int { state.withLock { $0.maintenanceCalls } }

    func closeGate() { state.withLock { $0.gateOpen = false } }

    func openGate() {
        let waiting = state.withLock { state in
            state.gateOpen = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func failWrites(_ fail: Bool) { state.withLock { $0.failWrites = fail } }
    func failMaintenance(_ fail: Bool) { state.withLock { $0.failMaintenance = fail } }

    func recordUse(_ uses: [TokenID: Date]) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLock { state in
                state.writesStarted += 1
                if !state.gateOpen { state.waiting.append(continuation) }
                return state.gateOpen
            }
            if open { continuation.resume() }
        }
        if state.withLock({ $0.failWrites }) { throw InjectedFailure() }
        try inner.recordUse(uses)
    }

    func performMaintenance() async throws {
        let fail = state.withLock { state in
            state.maintenanceCalls += 1
            return state.failMaintenance
        }
        if fail { throw TokenKitError(.storageFull, "injected: the disk is full") }
    }

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
}
