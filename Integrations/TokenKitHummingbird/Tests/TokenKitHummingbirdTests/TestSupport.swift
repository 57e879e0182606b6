import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import InMemoryLogging
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TokenKit
import TokenKitHummingbird
import TokenKitServerSupport
import TokenKitTesting

/// A request context whose remote address a test sets with the `X-Test-Peer` header (through
/// ``SimulatedPeerMiddleware``), so router tests can play clients and proxies at any address.
struct TestContext: AuthRequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: TokenRecord?
    var remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = nil
    }
}

/// Sets the context's remote address from `X-Test-Peer`.
struct SimulatedPeerMiddleware: RouterMiddleware {
    typealias Context = TestContext

    func handle(
        _ request: Request,
        context: TestContext,
        next: (Request, TestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let peer = request.headers[.testPeer] {
            context.remoteAddress = try SocketAddress(ipAddress: peer, port: 40_000)
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let testPeer = HTTPField.Name("X-Test-Peer")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwarded = HTTPField.Name("Forwarded")!
}

/// A clock for the throttle that a test moves by hand.
final class ThrottleClock: Sendable {
    private let start = ContinuousClock.now
    private let offset = Mutex<Duration>(.zero)

    var now: @Sendable () -> ContinuousClock.Instant {
        { [self] in start + offset.withLock { $0 } }
    }

    func advance(by duration: Duration) {
        offset.withLock { $0 += duration }
    }
}

/// A manager over an in-memory store, with a manual clock, recorded audit events and every log
/// line captured.
struct Fixture {
    let store = InMemoryTokenStore()
    let clock = ManualClock()
    let audit = RecordingAuditSink()
    let logs = InMemoryLogHandler()
    let manager: TokenManager

    init(lastUsedInterval: Duration = .seconds(60)) {
        var logHandler = logs
        logHandler.logLevel = .trace
        let logger = Logger(label: "test") { _ in logHandler }
        manager = TokenManager(
            store: store,
            configuration: .init(
                lastUsedInterval: lastUsedInterval,
                clock: clock,
                auditSink: TokenAuditSinks([audit, TokenAuditLogger(logger: logger)])
            )
        )
    }

    /// A logger whose lines land in ``logs``.
    var logger: Logger {
        var logHandler = logs
        logHandler.logLevel = .trace
        return Logger(label: "test") { _ in logHandler }
    }

    /// Creates a token for `owner` and returns its secret.
    func token(
        owner: String = "alice",
        name: String = "ci",
        expiry: TokenExpiry = .never,
        scopes: Set<String> = [],
        allowedNetworks: [String] = []
    ) async throws -> String {
        try await manager.create(
            owner: owner,
            name: name,
            expiry: expiry,
            scopes: scopes,
            allowedNetworks: allowedNetworks.map { try IPNetwork(parsing: $0) }
        ).secret
    }

    /// Every captured log line, message and metadata, as text.
    var logText: [String] {
        logs.entries.map { entry in
            "\(entry.level) \(entry.message) \(entry.metadata.map { "\($0.key)=\($0.value)" }.sorted())"
        }
    }
}

/// The test application: a Bearer route, a cPanel route, a scope-protected route and one that
/// requires a scope in the authenticator itself; and, given an endpoint, GitHub's secret-scanning
/// route at `secretScanningPath`.
func makeApplication(
    _ fixture: Fixture,
    trustedProxies: [String] = [],
    throttle: FailedAuthenticationThrottle? = nil,
    format: TokenErrorBodyFormat = .json,
    services: [any Service] = [],
    secretScanning: SecretScanningEndpoint? = nil,
    secretScanningPath: String = SecretScanningEndpoint.defaultPath
) throws -> some ApplicationProtocol {
    let proxies = try trustedProxies.map { try IPNetwork(parsing: $0) }
    let router = Router(context: TestContext.self)
    router.add(middleware: SimulatedPeerMiddleware())
    router.add(middleware: TokenErrorMiddleware(format: format))
    router.group("api")
        .add(
            middleware: TokenAuthenticator(manager: fixture.manager, trustedProxies: proxies, throttle: throttle)
        )
        .add(middleware: IsAuthenticatedMiddleware())
        .get("whoami") { _, context in try context.requireIdentity().owner }
    router.group("cpanel")
        .add(middleware: TokenAuthenticator(manager: fixture.manager, schemes: [.cpanel, .whm], throttle: throttle))
        .add(middleware: IsAuthenticatedMiddleware())
        .get("whoami") { _, context in try context.requireIdentity().owner }
    router.group("dns")
        .add(middleware: TokenAuthenticator(manager: fixture.manager))
        .add(middleware: AuthorizationPolicyMiddleware(TokenScopePolicy("dns:write")))
        .get("records") { _, context in try context.requireIdentity().name }
    router.group("strict")
        .add(middleware: TokenAuthenticator(manager: fixture.manager, requiring: ["dns:write"]))
        .add(middleware: IsAuthenticatedMiddleware())
        .get("records") { _, context in try context.requireIdentity().name }
    router.get("handler") { request, _ in
        // The README's first pattern: validate inside a handler.
        try await fixture.manager.validate(authorization: request.headers[.authorization]).authenticated().owner
    }
    if let secretScanning {
        router.addSecretScanningRoute(endpoint: secretScanning, path: secretScanningPath)
    }
    return Application(router: router, services: services, logger: fixture.logger)
}

extension HTTPFields {
    /// Headers with `Authorization` and, optionally, a simulated peer.
    static func auth(_ authorization: String?, peer: String? = nil) -> HTTPFields {
        var fields = HTTPFields()
        if let authorization { fields[.authorization] = authorization }
        if let peer { fields[.testPeer] = peer }
        return fields
    }
}
