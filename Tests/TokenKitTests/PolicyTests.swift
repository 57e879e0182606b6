import Foundation
import Testing
import TokenKit

struct NamePolicyTests {
    @Test(arguments: ["a", "A-Z_09", String(repeating: "x", count: 50), "my-token_1"])
    func acceptsCPanelNames(_ name: String) throws {
        try NamePolicy.cPanel.validate(name)
    }

    @Test(arguments: [
        "", String(repeating: "x", count: 51), "has space", "dot.name", "colon:name", "ünïcode", "tab\t", "new\nline",
        "emoji😀", "semi;colon", "slash/", "\0",
    ])
    func rejectsOthers(_ name: String) {
        #expect {
            try NamePolicy.cPanel.validate(name)
        } throws: { error in
            (error as? TokenKitError)?.code == .invalidName
        }
    }

    @Test func customPolicy() throws {
        let policy = try NamePolicy(maximumLength: 5, punctuation: ".")
        try policy.validate("a.b")
        #expect(throws: TokenKitError.self) { try policy.validate("a-b") }
        #expect(throws: TokenKitError.self) { try policy.validate("abcdef") }
        #expect(policy.rule.contains("1 to 5"))
    }

    @Test(arguments: [(0, "_"), (256, "_"), (10, ":"), (10, "a"), (10, " "), (10, "é")])
    func refusesBadConfigurations(maximumLength: Int, punctuation: String) {
        #expect(throws: TokenKitError.self) { try NamePolicy(maximumLength: maximumLength, punctuation: punctuation) }
    }

    @Test func messageNamesTheRule() {
        #expect {
            try NamePolicy.cPanel.validate("bad name")
        } throws: { error in
            let message = (error as? TokenKitError)?.message ?? ""
            return message.contains("\"bad name\"") && message.contains("1 to 50")
        }
    }
}

struct ExpiryPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let day: TimeInterval = 86_400

    @Test func defaultPolicyFollowsCPanel() throws {
        let policy = ExpiryPolicy.default
        #expect(try policy.expiryDate(for: .policyDefault, now: now) == now + 365 * day)
        #expect(try policy.expiryDate(for: .never, now: now) == nil)
        #expect(try policy.expiryDate(for: .at(now + day), now: now) == now + day)
        #expect(try policy.expiryDate(for: .after(.seconds(3600)), now: now) == now + 3600)
        #expect(try policy.expiryDate(for: .at(now + 10 * 365 * day), now: now) == now + 10 * 365 * day)
    }

    static let pastExpiries: [TokenExpiry] = [
        .at(Date(timeIntervalSince1970: 1_800_000_000)),
        .at(Date(timeIntervalSince1970: 1_799_999_999)),
        .at(Date(timeIntervalSince1970: 0)),
        .at(.distantPast),
        .after(.zero),
        .after(.seconds(-5)),
    ]

    @Test(arguments: pastExpiries)
    func refusesDatesThatAreNotInTheFuture(_ expiry: TokenExpiry) {
        #expect {
            try ExpiryPolicy.default.expiryDate(for: expiry, now: now)
        } throws: { error in
            let error = error as? TokenKitError
            return error?.code == .expiryInPast && error?.message.contains("must be a future date.") == true
        }
    }

    @Test func strictPolicy() throws {
        let policy = try ExpiryPolicy(
            allowsNeverExpiring: false,
            defaultLifetime: .seconds(30 * 86_400),
            maximumLifetime: .seconds(90 * 86_400)
        )
        #expect(try policy.expiryDate(for: .policyDefault, now: now) == now + 30 * day)
        #expect(try policy.expiryDate(for: .at(now + 90 * day), now: now) == now + 90 * day)
        #expect {
            try policy.expiryDate(for: .never, now: now)
        } throws: { ($0 as? TokenKitError)?.code == .neverExpiringRefused }
        #expect {
            try policy.expiryDate(for: .at(now + 90 * day + 1), now: now)
        } throws: { ($0 as? TokenKitError)?.code == .lifetimeTooLong }
        #expect {
            try policy.expiryDate(for: .after(.seconds(91 * 86_400)), now: now)
        } throws: { ($0 as? TokenKitError)?.code == .lifetimeTooLong }
    }

    @Test func noDefaultLifetimeMeansNever() throws {
        let policy = try ExpiryPolicy(allowsNeverExpiring: true, defaultLifetime: nil)
        #expect(try policy.expiryDate(for: .policyDefault, now: now) == nil)
    }

    @Test func refusesInconsistentConfigurations() {
        #expect(throws: TokenKitError.self) { try ExpiryPolicy(defaultLifetime: .zero) }
        #expect(throws: TokenKitError.self) { try ExpiryPolicy(allowsNeverExpiring: false, defaultLifetime: nil) }
        #expect(throws: TokenKitError.self) {
            try ExpiryPolicy(allowsNeverExpiring: true, maximumLifetime: .seconds(100))
        }
        #expect(throws: TokenKitError.self) {
            try ExpiryPolicy(allowsNeverExpiring: false, defaultLifetime: .seconds(200), maximumLifetime: .seconds(100))
        }
        #expect(throws: TokenKitError.self) {
            try ExpiryPolicy(allowsNeverExpiring: false, defaultLifetime: .seconds(10), maximumLifetime: .zero)
        }
    }
}
