import Testing
import TokenKit

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
