import Foundation
import TokenKit

/// A store whose storage is gone: every call throws `storage_failure`, with a message naming a
/// path that must reach the log and never a client.
struct FailingTokenStore: TokenStore {
    static let path = "/var/lib/private/tokens.tkstore"
    private static var failure: TokenKitError {
        TokenKitError(.storageFailure, "Could not read \(path): input/output error.")
    }

    func bindHasher(_ identity: TokenHasherIdentity) async throws { throw Self.failure }
    func record(forDigest digest: TokenDigest) async throws -> TokenRecord? { throw Self.failure }
    func record(id: TokenID) async throws -> TokenRecord? { throw Self.failure }
    func records(owner: String) async throws -> [TokenRecord] { throw Self.failure }
    func records(expiringBetween start: Date, and end: Date) async throws -> [TokenRecord] { throw Self.failure }
    func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) async throws { throw Self.failure }
    func rename(owner: String, name: String, to newName: String) async throws -> TokenRecord { throw Self.failure }
    func revoke(owner: String, name: String, at date: Date) async throws -> LineageChange { throw Self.failure }
    func revoke(id: TokenID, at date: Date) async throws -> LineageChange { throw Self.failure }
    func setDisabled(owner: String, name: String, at date: Date?, now: Date) async throws -> LineageChange {
        throw Self.failure
    }
    func changeLimits(
        _ change: TokenLimitsChange,
        owner: String,
        name: String,
        now: Date
    ) async throws -> LineageChange {
        throw Self.failure
    }
    func delete(owner: String, name: String, now: Date) async throws -> LineageChange { throw Self.failure }
    func delete(id: TokenID) async throws -> TokenRecord { throw Self.failure }
    func rotate(
        owner: String,
        name: String,
        successor: TokenSuccessor,
        revokingPreviousAt graceEnd: Date
    ) async throws -> LineageChange {
        throw Self.failure
    }
    func revokeAll(owner: String, at date: Date) async throws -> [TokenRecord] { throw Self.failure }
    func purge(before cutoff: Date) async throws -> [TokenRecord] { throw Self.failure }
    func recordUse(_ uses: [TokenID: Date]) async throws { throw Self.failure }
}
