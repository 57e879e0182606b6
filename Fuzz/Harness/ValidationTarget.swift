// The validation target: TokenManager.validateImmediately against the awaited
// validate(authorization:…) on headers built from the input, over an in-memory store that holds
// tokens of every status. Both must answer and audit alike, and an in-memory store always answers
// at once.

import Foundation
import Synchronization

/// Two managers over one store: one answers at once, the other awaits. Each has its own audit
/// sink, and both see the same inputs in the same order, so that their expiry warnings and noted
/// uses stay alike. Built once: inputs run one after another.
private final class ValidationFixture: Sendable {
    static let shared = ValidationFixture()

    let store = InMemoryTokenStore()
    let immediateSink = CollectingSink()
    let awaitedSink = CollectingSink()
    let immediate: TokenManager
    let awaited: TokenManager

    /// Secrets 0–5 are stored: valid with a scope, valid behind an allow-list, revoked, expired,
    /// expiring within the warning window, and idle too long; 6 and 7 are not.
    private init() {
        let configuration = { (sink: CollectingSink) in
            TokenManager.Configuration(
                maximumIdleTime: .seconds(3_600),
                expiryWarningWindow: .seconds(86_400),
                clock: FuzzClock(),
                auditSink: sink
            )
        }
        immediate = TokenManager(store: store, configuration: configuration(immediateSink))
        awaited = TokenManager(store: store, configuration: configuration(awaitedSink))
        let owners = ["alice", "bob", "carol", "alice", "dave-2", "bob"]
        for index in 0..<6 {
            let record = TokenRecord(
                id: TokenID(high: UInt64(index), low: 0x7a11d),
                owner: owners[index],
                name: "token-\(index)",
                createdAt: FuzzValues.now - 86_400,
                expiresAt: index == 3 ? FuzzValues.now - 60 : index == 4 ? FuzzValues.now + 3_600 : nil,
                scopes: index == 0 ? ["tokens:read"] : [],
                allowedNetworks: index == 1 ? [IPNetwork("192.0.2.0/24")!] : [],
                lastUsedAt: index == 5 ? FuzzValues.now - 7_200 : FuzzValues.now - 60,
                revokedAt: index == 2 ? FuzzValues.now - 60 : nil,
                digest: FuzzValues.digests[index]
            )
            do {
                try store.insert(record, maximumLiveTokensPerOwner: nil)
            } catch {
                fuzzFailure("the validation fixture cannot be stored: \(error)")
            }
        }
        // Both managers count as running, as they do in a server (their uses would be written by
        // run(); this target checks answers, not writes): the awaited one then takes the path an
        // adapter's fallback takes. Both have bound their hasher, as after a first awaited call.
        immediate.runners.add(1, ordering: .sequentiallyConsistent)
        awaited.runners.add(1, ordering: .sequentiallyConsistent)
        runAsync { [immediate, awaited] in
            do {
                try await immediate.bindHasherIfNeeded()
                try await awaited.bindHasherIfNeeded()
            } catch {
                fuzzFailure("binding the hasher failed: \(error)")
            }
        }
    }
}

private let addresses: [IPAddress?] = [
    nil, IPAddress("192.0.2.7"), IPAddress("198.51.100.7"), IPAddress("2001:db8::1"),
]
private let schemeWords = ["Bearer", "cpanel", "whm", "bearer", "Basic", "CPANEL", ""]

/// A header from the input: none, raw text, or a scheme, an optional user and a secret (stored or
/// not), perhaps with one byte changed.
private func header(_ input: inout FuzzInput) -> String? {
    let shape = input.u8() % 8
    if shape == 0 { return nil }
    if shape == 1 { return input.text(maximum: 200) }
    let scheme = schemeWords[Int(input.u8()) % schemeWords.count]
    var secret = Array(FuzzValues.secrets[Int(input.u8()) % FuzzValues.secrets.count].utf8)
    if input.u8() < 32 {
        secret[Int(input.u16()) % secret.count] = input.u8()
    }
    let token = String(decoding: secret, as: UTF8.self)
    let separator = input.bool() ? " " : input.text(maximum: 3)
    switch shape {
    case 2, 3, 4: return scheme + separator + token
    default: return scheme + separator + input.owner() + ":" + token
    }
}

func fuzzValidation(_ bytes: [UInt8]) {
    let fixture = ValidationFixture.shared
    var input = FuzzInput(bytes)
    let header = header(&input)
    let schemes = Set(AuthorizationCredentials.Scheme.allCases.filter { _ in input.u8() < 200 })
    let scopes = input.scopes()
    let address = addresses[Int(input.u8()) % addresses.count]
    let immediate: ValidationResult?
    do {
        immediate = try fixture.immediate.validateImmediately(
            authorization: header,
            accepting: schemes,
            requiring: scopes,
            from: address
        )
    } catch {
        fuzzFailure("validateImmediately threw \(error) over an in-memory store")
    }
    guard let immediate else { fuzzFailure("an in-memory store needed waiting") }
    runAsync {
        let awaited: ValidationResult
        do {
            awaited = try await fixture.awaited.validate(
                authorization: header,
                accepting: schemes,
                requiring: scopes,
                from: address
            )
        } catch {
            fuzzFailure("validate threw \(error) over an in-memory store")
        }
        guard awaited == immediate else {
            fuzzFailure("validateImmediately answered \(immediate), validate \(awaited)")
        }
    }
    // This input's events, taken out so that the sinks do not grow over a long run.
    let immediateEvents = fixture.immediateSink.takeAll()
    let awaitedEvents = fixture.awaitedSink.takeAll()
    guard immediateEvents == awaitedEvents else {
        fuzzFailure("the audits differ: \(immediateEvents) against \(awaitedEvents)")
    }
    if case .valid = immediate, !immediateEvents.allSatisfy({ $0.kind == .expiringSoon }) {
        fuzzFailure("a valid token was audited as \(immediateEvents.map(\.kind))")
    }
    if case .rejected = immediate, immediateEvents.count != 1 || immediateEvents[0].kind != .validationFailed {
        fuzzFailure("a refusal was audited as \(immediateEvents.map(\.kind))")
    }
}
