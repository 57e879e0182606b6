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
///         try await TokenStoreConformance(
///             makeStore: { try await PostgresTokenStore.makeEmptyForTest() },
///             openSecondHandle: { store in try await (store as! PostgresTokenStore).openAnotherConnection() }
///         ).run(check)
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
        /// A rename is returned and visible everywhere; a rename onto a live name or to an invalid
        /// name is refused; a revoked token's name can be taken.
        case rename
        /// No operation changes a record's id, owner, digest, creation date or lineage, and an
        /// insert that does not start its own lineage is refused with `contractViolation`.
        case identityIsKept
        /// By-name operations on a name nobody holds, and `delete(id:)` of an unknown id, throw
        /// `tokenNotFound`; `recordUse` ignores unknown ids.
        case unknownNamesAndIDs
        /// `revoke` revokes as of the date, frees the name, and keeps an earlier revocation.
        case revokeByName
        /// `revoke(id:at:)` revokes a record by id — a rotated-out one too — with the older
        /// records of its lineage still in grace, and no newer one.
        case revokeByID
        /// `setDisabled` disables and enables again.
        case disableAndEnable
        /// `changeLimits` changes the given limits and keeps the others.
        case changeLimits
        /// `revokeAll` revokes the owner's records that hold their name and the rotated-out ones still
        /// in grace, moves no earlier revocation, and frees the names.
        case revokeAll
        /// Deleted records, by name or by id, are gone from every look-up.
        case delete
        /// `recordUse` only moves last-used times forward and ignores unknown ids.
        case recordUse
        /// Every field of a record, disabled and scheduled-revocation dates included, comes back as
        /// it was stored.
        case everyFieldRoundTrips
        /// Dates with a fraction of a second — to the microsecond — come back exactly, through
        /// every operation that writes one.
        case subSecondDatesRoundTrip
        /// Input over the limits of ``TokenKit/TokenStoreRules``, and dates a store cannot keep,
        /// are refused with the documented codes and change nothing.
        case inputLimits
        /// `rotate` revokes the old record as of the grace end, frees the name for a successor that
        /// copies the old record's owner, name, limits, disabled state and lineage, and refuses a
        /// repeated id or digest.
        case rotation
        /// After a rotation, revoking, disabling, enabling, changing limits and deleting by name
        /// also apply to the rotated-out predecessor while it is in grace — and not after.
        case rotationLineage
        /// `purge` removes exactly the records revoked or expired at or before the cutoff.
        case purge
        /// `records(expiringBetween:and:)` finds the records of every owner expiring in the window
        /// and not revoked, soonest first.
        case expiringRecords
        /// `bindHasher` records the first identity, accepts it again, and refuses another with
        /// `hasherMismatch`.
        case hasherIdentity
        /// A write through one handle on the backing store is seen by the very next call through a
        /// second handle, both ways.
        case twoHandles
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
    private let openSecondHandle: @Sendable (any TokenStore) async throws -> any TokenStore
    private let validationStaleness: Duration

    /// Creates the suite.
    ///
    /// - Parameters:
    ///   - makeStore: Returns a new, empty store; called once per check.
    ///   - openSecondHandle: Opens another handle on the same backing store as the store it is
    ///     given: a second `FileTokenStore` on the same path, a second connection to the same
    ///     database. For a store whose only handle is the instance itself (``TokenKit/InMemoryTokenStore``),
    ///     return the store.
    ///   - validationStaleness: How long a change made through one handle may take to reach
    ///     ``TokenKit/TokenStore/record(forDigest:)`` through the other, for a store that validates
    ///     from a cache kept fresh within a documented bound (such as `PostgresTokenStore`'s
    ///     `maximumStaleness`). The two-handle check then waits up to this long for the change,
    ///     and fails if it has not arrived. Zero, the default, is the protocol's own contract: the
    ///     next look-up sees it. A handle always sees its own writes at once.
    public init(
        makeStore: @escaping @Sendable () async throws -> any TokenStore,
        openSecondHandle: @escaping @Sendable (any TokenStore) async throws -> any TokenStore,
        validationStaleness: Duration = .zero
    ) {
        self.makeStore = makeStore
        self.openSecondHandle = openSecondHandle
        self.validationStaleness = validationStaleness
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
        let context = try Context(check: check, store: store, validationStaleness: validationStaleness)
        switch check {
        case .insertAndLookUp: try await context.insertAndLookUp()
        case .missingRecords: try await context.missingRecords()
        case .listsByOwnerOldestFirst: try await context.listsByOwnerOldestFirst()
        case .nameUniquenessOnInsert: try await context.nameUniquenessOnInsert()
        case .identityUniqueness: try await context.identityUniqueness()
        case .liveTokenCap: try await context.liveTokenCap()
        case .rename: try await context.rename()
        case .identityIsKept: try await context.identityIsKept()
        case .unknownNamesAndIDs: try await context.unknownNamesAndIDs()
        case .revokeByName: try await context.revokeByName()
        case .revokeByID: try await context.revokeByID()
        case .disableAndEnable: try await context.disableAndEnable()
        case .changeLimits: try await context.changeLimits()
        case .revokeAll: try await context.revokeAll()
        case .delete: try await context.delete()
        case .recordUse: try await context.recordUse()
        case .everyFieldRoundTrips: try await context.everyFieldRoundTrips()
        case .subSecondDatesRoundTrip: try await context.subSecondDatesRoundTrip()
        case .inputLimits: try await context.inputLimits()
        case .rotation: try await context.rotation()
        case .rotationLineage: try await context.rotationLineage()
        case .purge: try await context.purge()
        case .expiringRecords: try await context.expiringRecords()
        case .hasherIdentity: try await context.hasherIdentity(secondHandle: try await openSecondHandle(store))
        case .twoHandles: try await context.twoHandles(secondHandle: try await openSecondHandle(store))
        case .concurrentInsertsOfOneName: try await context.concurrentInsertsOfOneName()
        case .concurrentRenameAndRevoke: try await context.concurrentRenameAndRevoke()
        }
    }
}
