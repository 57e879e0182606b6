import Foundation
import Testing
import TokenKit
import TokenKitTesting

struct AuthorizationCredentialsTests {
    @Test(
        arguments: [
            ("Bearer abc", AuthorizationCredentials.Scheme.bearer, nil, "abc"),
            ("bearer abc", .bearer, nil, "abc"),
            ("BEARER   abc  ", .bearer, nil, "abc"),
            ("\t Bearer\tabc\t", .bearer, nil, "abc"),
            ("cpanel alice:tk_x", .cpanel, "alice", "tk_x"),
            ("CPanel alice:tk_x", .cpanel, "alice", "tk_x"),
            ("whm root:tk_x", .whm, "root", "tk_x"),
            ("WHM root:a:b", .whm, "root", "a:b"),
        ] as [(String, AuthorizationCredentials.Scheme, String?, String)]
    )
    func parses(header: String, scheme: AuthorizationCredentials.Scheme, user: String?, token: String) throws {
        let credentials = try AuthorizationCredentials(parsing: header)
        #expect(credentials.scheme == scheme)
        #expect(credentials.user == user)
        #expect(credentials.token == token)
    }

    @Test(arguments: [
        ("", AuthorizationHeaderError.Reason.empty),
        ("   \t", .empty),
        ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", .unsupportedScheme),
        ("Bearerabc", .unsupportedScheme),
        ("Token abc", .unsupportedScheme),
        ("abc", .unsupportedScheme),
        ("Bearer", .missingCredentials),
        ("Bearer   ", .missingCredentials),
        ("Bearer a b", .malformedCredentials),
        ("cpanel tk_x", .missingUser),
        ("cpanel :tk_x", .missingUser),
        ("cpanel alice:", .malformedCredentials),
        ("whm root: tk_x", .malformedCredentials),
        ("Bearer " + String(repeating: "a", count: 9000), .malformedCredentials),
    ])
    func rejects(header: String, reason: AuthorizationHeaderError.Reason) {
        #expect(throws: AuthorizationHeaderError(reason)) { try AuthorizationCredentials(parsing: header) }
    }

    @Test func descriptionRedactsTheToken() throws {
        let credentials = try AuthorizationCredentials(parsing: "cpanel alice:tk_supersecret")
        #expect(!credentials.description.contains("supersecret"))
        #expect(credentials.description.contains("alice"))
    }
}

/// `validate(authorization:accepting:)`: every refusal before the token is looked at is audited.
struct AuthorizationValidationTests {
    @Test func aMissingHeaderIsRefusedAndAudited() async throws {
        let fixture = ManagerFixture()
        // Blanks beyond the parser's length limit are still a missing header, not a malformed one.
        let longBlanks = String(repeating: " \t", count: AuthorizationCredentials.maximumLength)
        for header in [nil, "", "  \t ", longBlanks] as [String?] {
            #expect(try await fixture.manager.validate(authorization: header) == .rejected(.missingCredentials))
        }
        #expect(fixture.audit.events.count(where: { $0.rejection == .missingCredentials }) == 4)
        #expect(fixture.audit.events.allSatisfy { $0.detail == nil })
    }

    @Test func aSchemeTheRouteDoesNotAcceptIsRefusedAndAudited() async throws {
        let fixture = ManagerFixture()
        let issued = try await fixture.manager.create(owner: "alice", name: "ci")
        let bearerOnly = try await fixture.manager.validate(
            authorization: "cpanel alice:\(issued.secret)",
            accepting: [.bearer]
        )
        #expect(bearerOnly == .rejected(.schemeNotAccepted))
        let event = try #require(fixture.audit.events.last)
        #expect(event.detail == "cpanel" && event.owner == "alice")
        #expect(
            try await fixture.manager.validate(authorization: "Basic dXNlcjpwYXNz") == .rejected(.schemeNotAccepted)
        )
        #expect(!String(describing: event).contains(issued.secret))
        let accepted = try await fixture.manager.validate(
            authorization: "Bearer \(issued.secret)",
            accepting: [.bearer]
        )
        #expect(accepted.record?.id == issued.record.id)
    }
}

/// Log output escapes what could break or disguise a line.
struct LogTextTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("two\nlines", "two\\nlines"),
        ("evil\u{202E}txt.exe", "evil\\u{202E}txt.exe"),
        ("zero\u{200B}width", "zero\\u{200B}width"),
        ("esc\u{1B}[31mred", "esc\\u{1B}[31mred"),
        ("ünïcode ✓", "ünïcode ✓"),
    ])
    func escapes(_ input: String, _ expected: String) {
        #expect(LogText.escaped(input) == expected)
    }

    @Test func auditEventsEscapeOwners() async throws {
        let fixture = ManagerFixture()
        _ = try await fixture.manager.create(owner: "mallory\u{202E}gpj.exe", name: "ci")
        let line = String(describing: try #require(fixture.audit.events.last))
        #expect(!line.contains("\u{202E}"))
        #expect(line.contains("mallory\\u{202E}gpj.exe"))
    }
}
