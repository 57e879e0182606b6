import Hummingbird
import TokenKit
import TokenKitHummingbird
import TokenKitServerSupport

let manager = TokenManager(store: try FileTokenStore(path: "tokens.tkstore"))
// curl https://api.github.com/meta/public_keys/secret_scanning > github-keys.json
let keys = try SecretScanningKeys(path: "github-keys.json")  // keys.reload() after GitHub rotates them
let router = Router(context: TokenRequestContext.self)
// POST /secret-scanning/github, outside any token-protected group: GitHub signs its reports.
router.addSecretScanningRoute(endpoint: SecretScanningEndpoint(manager: manager, keys: keys))
let app = Application(router: router, services: [TokenManagerService(manager)])
try await app.runService()
