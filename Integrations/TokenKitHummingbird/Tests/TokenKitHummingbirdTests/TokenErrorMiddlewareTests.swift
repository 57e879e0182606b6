import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdTesting
import Logging
import Testing
import TokenKit
import TokenKitHummingbird

struct TokenErrorMiddlewareTests {
    /// An application whose one route throws `error`, behind the middleware.
    static func application(
        throwing error: any Error,
        format: TokenErrorBodyFormat = .json,
        challenge: String = "Bearer",
        logger: Logger = Logger(label: "test")
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: TokenErrorMiddleware(challenge: challenge, format: format))
        router.get("fail") { _, _ -> String in throw error }
        return Application(router: router, logger: logger)
    }

    struct ErrorBody: Decodable, Equatable {
        struct Detail: Decodable, Equatable {
            let code: String
            let message: String
        }

        let error: Detail
    }

    @Test(arguments: [
        (TokenKitError.Code.invalidName, 400),
        (.expiryInPast, 400),
        (.tokenNotFound, 404),
        (.duplicateName, 409),
        (.tokenLimitReached, 409),
    ])
    func clientErrorsCarryTheirCodeAndMessage(code: TokenKitError.Code, status: Int) async throws {
        let error = TokenKitError(code, "What went wrong, and what to do.")
        try await Self.application(throwing: error).test(.router) { client in
            let response = try await client.execute(uri: "/fail", method: .get)
            #expect(response.status.code == status)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let body = try JSONDecoder().decode(ErrorBody.self, from: Data(response.body.readableBytesView))
            #expect(body.error == .init(code: code.rawValue, message: error.message))
        }
    }

    @Test(arguments: [
        (TokenKitError.Code.storageFailure, 503),
        (.storeLocked, 503),
        (.storageFull, 503),
        (.hasherMismatch, 500),
        (.contractViolation, 500),
    ])
    func serverErrorsAreLoggedNotShown(code: TokenKitError.Code, status: Int) async throws {
        let error = TokenKitError(code, "Could not write /var/lib/server/tokens.tkstore: No space left on device.")
        let fixture = Fixture()
        try await Self.application(throwing: error, logger: fixture.logger).test(.router) { client in
            let response = try await client.execute(uri: "/fail", method: .get)
            #expect(response.status.code == status)
            let body = try JSONDecoder().decode(ErrorBody.self, from: Data(response.body.readableBytesView))
            #expect(body.error.code == code.rawValue)
            #expect(!body.error.message.contains("/var/lib"))
        }
        #expect(
            fixture.logText.contains { $0.contains("/var/lib/server/tokens.tkstore") && $0.contains(code.rawValue) }
        )
    }

    @Test func anAuthenticationFailureThrownByAHandlerIs401() async throws {
        let fixture = Fixture()
        try await makeApplication(fixture).test(.router) { client in
            let response = try await client.execute(uri: "/handler", method: .get, headers: .auth("Bearer tk_bad"))
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
            #expect(String(buffer: response.body) == TokenAuthenticatorTests.unauthorizedBody)
        }
    }

    @Test func plainTextIsABare401AndAMessageWithItsCode() async throws {
        try await Self.application(throwing: HTTPError(.unauthorized), format: .plainText).test(.router) { client in
            let response = try await client.execute(uri: "/fail", method: .get)
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
            #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
            #expect(String(buffer: response.body) == "Unauthorized\n")
        }
        let conflict = TokenKitError.duplicateName("ci", renaming: true)
        try await Self.application(throwing: conflict, format: .plainText).test(.router) { client in
            let response = try await client.execute(uri: "/fail", method: .get)
            #expect(response.status == .conflict)
            #expect(
                String(buffer: response.body) == "An API token with the name \"ci\" already exists. [duplicate_name]\n"
            )
        }
    }

    @Test func a401KeepsItsOwnChallengeAndHeaders() async throws {
        let error = HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Basic", .cacheControl: "no-store"])
        try await Self.application(throwing: error).test(.router) { client in
            let response = try await client.execute(uri: "/fail", method: .get)
            #expect(response.headers[.wwwAuthenticate] == "Basic")
            #expect(response.headers[.cacheControl] == "no-store")
        }
        try await Self.application(throwing: HTTPError(.unauthorized), challenge: #"Bearer realm="dns""#).test(.router)
        {
            client in
            let response = try await client.execute(uri: "/fail", method: .get)
            #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="dns""#)
        }
    }

    /// A 403 answers in the middleware's format with RFC 6750's `insufficient_scope` challenge; a
    /// 429 keeps its `Retry-After`, as the Vapor adapter answers them.
    @Test func refusalsAnswerInOneFormat() async throws {
        try await Self.application(throwing: HTTPError(.forbidden, message: "no")).test(.router) { client in
            let response = try await client.execute(uri: "/fail", method: .get)
            #expect(response.status == .forbidden)
            #expect(response.headers[.wwwAuthenticate] == #"Bearer error="insufficient_scope""#)
            #expect(String(buffer: response.body).contains(#""code":"insufficient_scope""#))
        }
        let throttled = HTTPError(.tooManyRequests, headers: [.retryAfter: "30"], message: "slow down")
        try await Self.application(throwing: throttled).test(.router) { client in
            let response = try await client.execute(uri: "/fail", method: .get)
            #expect(response.status == .tooManyRequests)
            #expect(response.headers[.retryAfter] == "30")
            #expect(String(buffer: response.body).contains(#""code":"too_many_requests""#))
        }
    }

    @Test func otherErrorsPassThrough() async throws {
        try await Self.application(throwing: HTTPError(.conflict, message: "no")).test(.router) { client in
            let response = try await client.execute(uri: "/fail", method: .get)
            #expect(response.status == .conflict)
            #expect(response.headers[.wwwAuthenticate] == nil)
            #expect(String(buffer: response.body) == #"{"error":{"message":"no"}}"#)
        }
    }
}
