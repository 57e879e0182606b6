import Hummingbird
import HummingbirdAuth
import TokenKit
import TokenKitHummingbird

let manager = TokenManager(store: try FileTokenStore(path: "tokens.tkstore"))
let router = Router(context: TokenRequestContext.self)
router.add(middleware: TokenErrorMiddleware())  // 401 + WWW-Authenticate; TokenKitError → 400/404/409/503
router.group("api")
    .add(middleware: TokenAuthenticator(manager: manager))  // Authorization: Bearer TOKEN
    .add(middleware: IsAuthenticatedMiddleware())  // no valid token → 401
    .add(middleware: AuthorizationPolicyMiddleware(TokenScopePolicy("dns:read")))  // missing scope → 403
    .get("whoami") { _, context in try context.requireIdentity().owner }
let app = Application(router: router, services: [TokenManagerService(manager)])  // drains on shutdown
try await app.runService()
