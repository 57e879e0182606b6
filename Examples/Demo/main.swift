// The README's quickstart, compiled and run in CI: create → list → rename → validate → revoke.
import Foundation
import TokenKit

/// Prints audit events as they happen, as a server would log them.
struct PrintingAuditSink: TokenAuditSink {
    func record(_ event: TokenAuditEvent) {
        print("  audit: \(event)")
    }
}

let manager = TokenManager(
    store: InMemoryTokenStore(),
    configuration: .init(auditSink: PrintingAuditSink())
)

print("1. Create a token named \"deploy\" for alice, expiring in 30 days")
let issued = try await manager.create(
    owner: "alice",
    name: "deploy",
    expiry: .after(.seconds(30 * 86_400)),
    scopes: ["tokens:read"]
)
print("  Your new API token: \(issued.secret)")
print("  Copy it now to a discreet location — it cannot be shown again.")

print("2. List alice's active tokens")
for record in try await manager.list(owner: "alice") {
    let expiry = record.expiresAt.map { "expires \($0)" } ?? "never expires"
    print(
        "  \(record.name) (id \(record.id), created \(record.createdAt), \(expiry), scopes \(record.scopes.sorted()))"
    )
}

print("3. Rename \"deploy\" to \"ci-deploy\"")
try await manager.rename(owner: "alice", name: "deploy", to: "ci-deploy")

print("4. Validate the token as a server would, from an Authorization header")
let header = "cpanel alice:\(issued.secret)"
let record = try await manager.validate(authorization: header, requiring: ["tokens:read"]).authenticated()
print("  valid: owner \(record.owner), token \(record.name)")

print("5. Revoke it; the very next validation fails")
try await manager.revoke(owner: "alice", name: "ci-deploy")
switch try await manager.validate(authorization: header) {
case .valid: print("  unexpectedly still valid")
case .rejected(let reason): print("  rejected (\(reason)); a client would see HTTP 401 and nothing more")
}
