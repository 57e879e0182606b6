import InMemoryLogging
import NIOCore
import TokenKit
import TokenKitTesting
import TokenKitVapor
import Vapor
import VaporTesting

/// An application for one test: TokenKit configured, its log captured in memory, and the routes
/// every test uses. Shut down at the end, as `withApp` does.
struct TestApplication {
    let app: Application
    let log: InMemoryLogHandler
    let clock: ManualClock

    var manager: TokenManager { app.tokens.manager }

    /// Runs `body` with a fresh application.
    ///
    /// Routes: `GET /bearer` (``TokenBearerAuthenticator``), `GET /cpanel` (``TokenAuthenticator``,
    /// `cpanel`/`whm`), `GET /either` (both, chained), `GET /scoped` (Bearer, guard needs
    /// `dns:write`), `GET /audited-scope` (Bearer, the authenticator needs `dns:write`). Each
    /// answers the token's owner and name.
    static func run<T>(
        provider: Application.Tokens.Provider = .memory,
        configuration: TokenManager.Configuration = TokenManager.Configuration(),
        options: Application.Tokens.Options = Application.Tokens.Options(),
        routes: (Application) throws -> Void = { _ in },
        _ body: (TestApplication) async throws -> T
    ) async throws -> T {
        let log = InMemoryLogHandler()
        var logger = Logger(label: "tokenkit-vapor-tests") { _ in log }
        logger.logLevel = .trace
        let app = try await Application.make(.testing, logger: logger)
        let clock = ManualClock(start: Date())
        var configuration = configuration
        configuration.clock = clock
        do {
            try app.tokens.use(provider, configuration: configuration, options: options)
            app.middleware.use(TokenErrorMiddleware())
            addRoutes(to: app)
            try routes(app)
            let result = try await body(TestApplication(app: app, log: log, clock: clock))
            try await app.asyncShutdown()
            return result
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    private static func addRoutes(to app: Application) {
        let whoami: @Sendable (Request) throws -> String = { request in
            let token = try request.auth.require(AuthenticatedToken.self)
            return "\(token.owner)/\(token.name)"
        }
        app.grouped(TokenBearerAuthenticator(), TokenGuardMiddleware()).get("bearer", use: whoami)
        app.grouped(TokenAuthenticator(), TokenGuardMiddleware()).get("cpanel", use: whoami)
        app.grouped(TokenBearerAuthenticator(), TokenAuthenticator(), TokenGuardMiddleware())
            .get("either", use: whoami)
        app.grouped(TokenBearerAuthenticator(), TokenGuardMiddleware(requiring: ["dns:write"]))
            .get("scoped", use: whoami)
        app.grouped(TokenBearerAuthenticator(requiring: ["dns:write"]), TokenGuardMiddleware())
            .get("audited-scope", use: whoami)
    }

    /// Sends a request in memory, as VaporTesting does, with `Authorization: authorization`.
    func send(_ path: String, authorization: String? = nil, headers: HTTPHeaders = [:]) async throws -> TestResponse {
        var headers = headers
        if let authorization { headers.add(name: .authorization, value: authorization) }
        let response = try await app.testing().sendRequest(.GET, path, headers: headers)
        return TestResponse(status: response.status, headers: response.headers, body: String(buffer: response.body))
    }

    /// Sends a request in memory from the connection peer `peer` — which VaporTesting's in-memory
    /// requests lack — straight to the application's responder.
    func send(
        _ path: String,
        from peer: String,
        authorization: String? = nil,
        headers: HTTPHeaders = [:]
    ) async throws -> TestResponse {
        try await app.asyncBoot()
        let request = try makeRequest(path, from: peer, authorization: authorization, headers: headers)
        let response = try await app.responder.respond(to: request).get()
        let body = try await response.body.collect(on: request.eventLoop).get()
        return TestResponse(
            status: response.status,
            headers: response.headers,
            body: body.map { String(buffer: $0) } ?? ""
        )
    }

    /// A request made in memory, from the connection peer `peer`, for a test to hand to a
    /// middleware itself.
    func makeRequest(
        _ path: String,
        from peer: String = "192.0.2.1",
        authorization: String? = nil,
        headers: HTTPHeaders = [:]
    ) throws -> Request {
        var headers = headers
        if let authorization { headers.add(name: .authorization, value: authorization) }
        return Request(
            application: app,
            method: .GET,
            url: URI(path: path),
            headers: headers,
            remoteAddress: try SocketAddress(ipAddress: peer, port: 50_000),
            logger: app.logger,
            on: app.eventLoopGroup.next()
        )
    }

    /// The value of metadata `key` on every `token.validation_failed` audit line, in order:
    /// `failureLog("token.reason")` lists the refusals audited.
    func failureLog(_ key: String) -> [String?] {
        log.entries
            .filter { $0.metadata["token.kind"] == "token.validation_failed" }
            .map { $0.metadata[key].map { "\($0)" } }
    }

    /// Every captured log line, message and metadata, as text.
    var logText: [String] {
        log.entries.map { entry in
            "\(entry.level) \(entry.message) \(entry.metadata) \(entry.error.map { "\($0)" } ?? "")"
        }
    }
}

/// A response as the tests read it.
struct TestResponse {
    let status: HTTPResponseStatus
    let headers: HTTPHeaders
    let body: String
}
