import TokenKitVapor
import Vapor

let app = try await Application.make(.detect())
try app.tokens.use(.file(path: "tokens.tkstore"))  // also runs the manager's background work; drains on shutdown
app.middleware.use(TokenErrorMiddleware())  // TokenKitError thrown by your handlers → 400/404/409/503
let api = app.grouped(
    TokenBearerAuthenticator(),  // Authorization: Bearer TOKEN
    TokenGuardMiddleware(requiring: ["dns:read"])  // no valid token → 401 + WWW-Authenticate; missing scope → 403
)
api.get("whoami") { req in try req.auth.require(AuthenticatedToken.self).owner }
try await app.execute()
try await app.asyncShutdown()
