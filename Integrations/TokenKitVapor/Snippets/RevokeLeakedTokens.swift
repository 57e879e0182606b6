import TokenKitServerSupport
import TokenKitVapor
import Vapor

let app = try await Application.make(.detect())
try app.tokens.use(.file(path: "tokens.tkstore"))
// curl https://api.github.com/meta/public_keys/secret_scanning > github-keys.json
let keys = try SecretScanningKeys(path: "github-keys.json")  // keys.reload() after GitHub rotates them
// POST /secret-scanning/github, outside any token-protected group: GitHub signs its reports.
app.tokens.registerSecretScanning(keys: keys)
try await app.execute()
try await app.asyncShutdown()
