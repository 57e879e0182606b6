import Foundation
import TokenKit

/// A reusable test suite that proves a ``TokenKit/TokenStore`` meets the protocol's contract.
///
/// Run every check from your own tests, with a fresh store per check:
///
/// ```swift
/// import Testing
/// import TokenKitTesting
///
/// struct PostgresTokenStoreTests {
///     @Test(arguments: TokenStoreConformance.Check.allCases)
///     func conformance(_ check: TokenStoreConformance.Check) async throws {
///         try await TokenStoreConformance { try await PostgresTokenStore.makeEmptyForTest() }.run(check)
///     }
/// }
/// ```
///
/// A failed check throws ``TokenStoreConformance/Failure``, whose description says what the
/// store did and what the contract requires.
public struct TokenStoreConformance: Sendable {
    /// One part of the contract.
    public enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
        /// An inserted record is found by digest, by id and by owner, unchanged.
        case insertAndLookUp
        /// Look-ups of absent digests, ids and owners find nothing.
        case missingRecords
        /// `records(owner:)` lists only that owner's records, oldest first.
        case listsByOwnerOldestFirst
        /// A second live record of one owner and name is refused; other owners and revoked records
        /// do not conflict.
        case nameUniquenessOnInsert
        /// A repeated id or digest is refused.
        case identityUniqueness
        /// The live-token cap counts records neither revoked nor expired, atomically with insert.
        case liveTokenCap
        /// An update is applied and returned; a rename onto a live name is refused; a throwing
        /// change changes nothing.
        case updateAndRename
        /// An update may not change a record's id, owner, digest or creation time.
        case updateKeepsIdentity
        /// Updating or deleting an unknown id throws `tokenNotFound`.
        case unknownIDs
        /// `revokeAll` revokes the owner's live records only, and frees their names.
        case revokeAll
        /// A deleted record is gone from every look-up.
        case delete
        /// `recordUse` only moves last-used times forward and ignores unknown ids.
        case recordUse
        /// Every field of a record, disabled and scheduled-revocation dates included, comes back as
        /// it was stored.
        case everyFieldRoundTrips
        /// `replace` revokes the old record as of the given date, frees its name for the
        /// replacement, and refuses records that do not hold their name.
        case replaceForRotation
        /// `purge` removes exactly the records revoked or expired at or before the cutoff.
        case purge
        /// `records(expiringBetween:and:)` finds the records of every owner expiring in the window
        /// and not revoked, soonest first.
        case expiringRecords
        /// 100 concurrent inserts of one name: exactly one succeeds.
        case concurrentInsertsOfOneName
        /// Concurrent renames and revokes leave exactly one consistent state.
        case concurrentRenameAndRevoke

        /// The check's name.
        public var description: String { rawValue }
    }

    /// A broken part of the contract.
    public struct Failure: Error, CustomStringConvertible {
        /// The check that failed.
        public let check: Check
        /// What the store did, against what the contract requires.
        public let message: String

        /// The check and what went wrong.
        public var description: String { "TokenStore conformance check \(check) failed: \(message)" }
    }

    private let makeStore: @Sendable () async throws -> any TokenStore

    /// Creates the suite.
    ///
    /// - Parameter makeStore: Returns a new, empty store; called once per check.
    public init(makeStore: @escaping @Sendable () async throws -> any TokenStore) {
        self.makeStore = makeStore
    }

    /// Runs every check, stopping at the first failure.
    public func runAll() async throws {
        for check in Check.allCases {
            try await run(check)
        }
    }

    /// Runs one check against a new store.
    ///
    /// - Throws: ``Failure`` when the store breaks the contract; whatever the store throws when it
    ///   fails where the contract says it must succeed.
    public func run(_ check: Check) async throws {
        let store = try await makeStore()
        let context = Context(check: check, store: store)
        switch check {
        case .insertAndLookUp: try await context.insertAndLookUp()
        case .missingRecords: try await context.missingRecords()
        case .listsByOwnerOldestFirst: try await context.listsByOwnerOldestFirst()
        case .nameUniquenessOnInsert: try await context.nameUniquenessOnInsert()
        case .identityUniqueness: try await context.identityUniqueness()
        case .liveTokenCap: try await context.liveTokenCap()
        case .updateAndRename: try await context.updateAndRename()
        case .updateKeepsIdentity: try await context.updateKeepsIdentity()
        case .unknownIDs: try await context.unknownIDs()
        case .revokeAll: try await context.revokeAll()
        case .delete: try await context.delete()
        case .recordUse: try await context.recordUse()
        case .everyFieldRoundTrips: try await context.everyFieldRoundTrips()
        case .replaceForRotation: try await context.replaceForRotation()
        case .purge: try await context.purge()
        case .expiringRecords: try await context.expiringRecords()
        case .concurrentInsertsOfOneName: try await context.concurrentInsertsOfOneName()
        case .concurrentRenameAndRevoke: try await context.concurrentRenameAndRevoke()
        }
    }
}
