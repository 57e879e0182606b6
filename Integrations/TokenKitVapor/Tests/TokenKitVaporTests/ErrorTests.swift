import Testing
import TokenKit
import TokenKitVapor
import Vapor

/// `TokenErrorMiddleware`: what a handler's TokenKit errors answer.
struct ErrorTests {
    private static func routes(_ app: Application) {
        let manager = app.tokens.manager
        app.get("rename", ":name", ":to") { request -> HTTPStatus in
            try await manager.rename(
                owner: "alice",
                name: request.parameters.get("name") ?? "",
                to: request.parameters.get("to") ?? ""
            )
            return .noContent
        }
        app.get("by-hand") { request -> String in
            // The core README's way, inside a handler: a refused token throws AuthenticationFailure.
            let header = request.headers.first(name: .authorization)
            return try await manager.validate(authorization: header).authenticated().owner
        }
        app.get("broken") { _ -> String in
            throw TokenKitError(.storeCorrupted, "The store /srv/secret/tokens.tkstore is damaged at offset 42.")
        }
    }

    @Test func duplicateNameGets409WithTheMessage() async throws {
        try await TestApplication.run(routes: Self.routes) { test in
            _ = try await test.manager.create(owner: "alice", name: "one")
            _ = try await test.manager.create(owner: "alice", name: "two")
            let response = try await test.send("/rename/one/two")
            #expect(response.status == .conflict)
            #expect(response.body.contains(#"An API token with the name \"two\" already exists."#))
        }
    }

    @Test func missingTokenGets404() async throws {
        try await TestApplication.run(routes: Self.routes) { test in
            let response = try await test.send("/rename/nope/other")
            #expect(response.status == .notFound)
        }
    }

    @Test func authenticationFailureGets401WithChallenge() async throws {
        try await TestApplication.run(routes: Self.routes) { test in
            let response = try await test.send("/by-hand", authorization: "Bearer tk_wrong")
            #expect(response.status == .unauthorized)
            #expect(response.headers.first(name: .wwwAuthenticate) == "Bearer")
        }
    }

    @Test func serverErrorKeepsItsDetailsInTheLog() async throws {
        try await TestApplication.run(routes: Self.routes) { test in
            let response = try await test.send("/broken")
            #expect(response.status == .serviceUnavailable)
            #expect(!response.body.contains("/srv/secret"))
            #expect(test.logText.contains { $0.contains("/srv/secret") && $0.hasPrefix("error") })
        }
    }
}
