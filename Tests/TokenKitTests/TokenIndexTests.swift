import Foundation
import Testing
import TokenKitTesting

@testable import TokenKit

/// `TokenIndex` keeps each field in its own array, interns owners, scope sets and allow-lists, and
/// validates from an inline entry. These tests hold it to a plain dictionary of records, and its
/// inline validation to the rules applied to the record.
struct TokenIndexTests {
    private static let owners = ["alice", "bob", "carol", "a-much-longer-owner-name-than-fits-inline"]
    private static let scopeSets: [Set<String>] = [[], [], ["dns:read"], ["dns:read", "email"], ["email"]]
    private static let networkLists: [[IPNetwork]] = [
        [], [], [IPNetwork("10.0.0.0/8")!], [IPNetwork("10.1.0.0/16")!, IPNetwork("2001:db8::/32")!],
    ]
    private static let addresses: [IPAddress?] = [
        nil, IPAddress("10.1.2.3")!, IPAddress("192.0.2.1")!, IPAddress("2001:db8::1")!,
    ]
    private static let base = Date(timeIntervalSinceReferenceDate: 800_000_000)

    private static func date(_ offset: Int?) -> Date? {
        offset.map { base.addingTimeInterval(Double($0)) }
    }

    private static func randomRecord(
        id: TokenID = .random(),
        owner: String? = nil,
        lineage: TokenID? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> TokenRecord {
        func maybe(_ range: ClosedRange<Int>) -> Int? {
            Bool.random(using: &generator) ? nil : Int.random(in: range, using: &generator)
        }
        var digest = [UInt8](repeating: 0, count: 32)
        for index in digest.indices { digest[index] = .random(in: 0...255, using: &generator) }
        return TokenRecord(
            id: id,
            owner: owner ?? owners.randomElement(using: &generator)!,
            name: "token-\(Int.random(in: 0..<1_000, using: &generator))",
            createdAt: date(Int.random(in: -100...0, using: &generator))!,
            expiresAt: date(maybe(-50...100)),
            scopes: scopeSets.randomElement(using: &generator)!,
            allowedNetworks: networkLists.randomElement(using: &generator)!,
            lastUsedAt: date(maybe(-50...50)),
            revokedAt: date(maybe(-50...100)),
            disabledAt: Int.random(in: 0..<4, using: &generator) == 0 ? date(maybe(-50...0)) : nil,
            digest: TokenDigest(bytes: digest)!,
            lineageID: lineage
        )
    }

    /// Inserts, replacements (new name, digest, limits, dates; now and then a new owner) and
    /// removals agree with a dictionary of records at every step, freed slots reused included.
    @Test func agreesWithADictionaryThroughRandomChanges() {
        var generator = SystemRandomNumberGenerator()
        var index = TokenIndex()
        var model: [TokenID: TokenRecord] = [:]
        for step in 0..<3_000 {
            let choice = Int.random(in: 0..<10, using: &generator)
            if model.isEmpty || choice < 5 {
                let lineage = model.keys.randomElement(using: &generator).flatMap { Bool.random() ? $0 : nil }
                let record = Self.randomRecord(lineage: lineage, using: &generator)
                index.put(record)
                model[record.id] = record
            } else if choice < 8 {
                let existing = model.values.randomElement(using: &generator)!
                let owner = choice == 7 ? nil : existing.owner
                let replacement = Self.randomRecord(
                    id: existing.id,
                    owner: owner,
                    lineage: existing.lineageID,
                    using: &generator
                )
                index.put(replacement)
                model[existing.id] = replacement
            } else {
                let id = model.keys.randomElement(using: &generator)!
                #expect(index.remove(id: id) == model.removeValue(forKey: id))
            }
            if step % 100 == 0 || step == 2_999 {
                Self.expect(index, matches: model)
            }
        }
        for id in Array(model.keys) {
            #expect(index.remove(id: id) == model.removeValue(forKey: id))
        }
        Self.expect(index, matches: model)
        // Nothing refers to the shared values any more, so none is kept.
        #expect(index.sharedValueCounts == (0, 0, 0))
    }

    private static func expect(_ index: TokenIndex, matches model: [TokenID: TokenRecord]) {
        #expect(index.count == model.count)
        #expect(Set(index.allRecords) == Set(model.values))
        for record in model.values {
            #expect(index.record(id: record.id) == record)
            #expect(index.record(forDigest: record.digest) == record)
        }
        for owner in owners {
            let expected = model.values.filter { $0.owner == owner }.sorted(by: TokenStoreRules.isOlder)
            #expect(index.records(owner: owner) == expected)
        }
        let walked = stride(from: 0, to: index.slotCount, by: 7).flatMap {
            index.records(inSlots: $0..<min($0 + 7, index.slotCount))
        }
        #expect(Set(walked) == Set(model.values))
        #expect(walked.count == model.count)
    }

    /// The inline validation gives the answer the rules give for the record, for every reason,
    /// and builds a rejected record only when asked to.
    @Test func validationFromTheEntryAgreesWithTheRecordRules() {
        var generator = SystemRandomNumberGenerator()
        var index = TokenIndex()
        var records: [TokenRecord] = []
        for _ in 0..<300 {
            let record = Self.randomRecord(using: &generator)
            index.put(record)
            records.append(record)
        }
        var reasons: Set<RejectionReason> = []
        for _ in 0..<20_000 {
            let record = records.randomElement(using: &generator)!
            let request = Self.randomRequest(using: &generator)
            let recording = Bool.random(using: &generator)
            let expected: IndexValidation =
                if let problem = Self.problemAsBefore(record, request) {
                    .rejected(problem, recording ? record : nil)
                } else {
                    .valid(record)
                }
            #expect(index.validate(digest: record.digest, request, recordingRejections: recording) == expected)
            if case .rejected(let reason, _) = expected { reasons.insert(reason) }
        }
        // Every reason a found token can be refused for was reached.
        #expect(reasons == [.revoked, .expired, .disabled, .idle, .wrongOwner, .addressNotAllowed, .missingScope])
        let unknown = Self.randomRecord(using: &generator)
        let request = ValidationRequest(owner: nil, scopes: [], address: nil, now: Self.base, maximumIdleTime: nil)
        #expect(index.validate(digest: unknown.digest, request, recordingRejections: true) == .notFound)
    }

    /// A request with a random claimed owner, scopes, address, time and idle limit.
    private static func randomRequest(using generator: inout some RandomNumberGenerator) -> ValidationRequest {
        ValidationRequest(
            owner: Bool.random(using: &generator) ? nil : owners.randomElement(using: &generator),
            scopes: scopeSets.randomElement(using: &generator)!,
            address: addresses.randomElement(using: &generator)!,
            now: date(Int.random(in: -60...120, using: &generator))!,
            maximumIdleTime: Bool.random(using: &generator) ? nil : Double.random(in: 0...100, using: &generator)
        )
    }

    /// The manager's checks before decision entries, verbatim from `TokenRecord`'s own methods:
    /// the reference both validation paths are held to.
    private static func problemAsBefore(_ record: TokenRecord, _ request: ValidationRequest) -> RejectionReason? {
        let now = request.now
        if record.isRevoked(at: now) { return .revoked }
        if record.isExpired(at: now) { return .expired }
        if record.isDisabled { return .disabled }
        if let limit = request.maximumIdleTime, now.timeIntervalSince(record.lastUsedAt ?? record.createdAt) > limit {
            return .idle
        }
        if let owner = request.owner, owner != record.owner { return .wrongOwner }
        if !record.allows(request.address) { return .addressNotAllowed }
        if !record.grants(request.scopes) { return .missingScope }
        return nil
    }

    /// The record path (a store of a user's own) agrees with the same reference.
    @Test func theRecordPathAgreesWithTheRecordsOwnChecks() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let record = Self.randomRecord(using: &generator)
            let request = Self.randomRequest(using: &generator)
            #expect(request.problem(for: record) == Self.problemAsBefore(record, request))
        }
    }

    /// A store of a user's own is not held to the store rules: a NaN date in its record fails
    /// closed (revoked, expired, idle), never as "no date".
    @Test func aNaNDateFromAStoreOfYourOwnFailsClosed() {
        let nan = Date(timeIntervalSinceReferenceDate: .nan)
        let request = ValidationRequest(owner: nil, scopes: [], address: nil, now: Self.base, maximumIdleTime: 60)
        var record = TokenRecord.fixture(createdAt: Self.base)
        record.revokedAt = nan
        #expect(request.problem(for: record) == .revoked)
        record.revokedAt = nil
        record.expiresAt = nan
        #expect(request.problem(for: record) == .expired)
        record.expiresAt = nil
        record.lastUsedAt = nan
        #expect(request.problem(for: record) == .idle)
        record.lastUsedAt = Self.base
        #expect(request.problem(for: record) == nil)
    }

    /// An interned value is dropped with its last reference and its number reused.
    @Test func internerCountsReferences() {
        var interner = Interner<String>()
        let alice = interner.retain("alice")
        #expect(interner.retain("alice") == alice)
        let bob = interner.retain("bob")
        #expect(alice != 0 && bob != 0 && alice != bob)
        interner.release(alice)
        #expect(interner.value(alice) == "alice")
        interner.release(alice)
        #expect(interner.number(of: "alice") == nil)
        #expect(interner.count == 1)
        #expect(interner.retain("carol") == alice)
        #expect(interner.value(bob) == "bob")
    }
}
