import Foundation
import TokenKit

extension TokenRecord {
    /// A record for store tests: a random id and digest, created at `createdAt`.
    ///
    /// The digest is that of a fresh random token, so fixtures never collide.
    public static func fixture(
        owner: String = "alice",
        name: String = "token",
        createdAt: Date = Date(timeIntervalSince1970: 1_800_000_000),
        expiresAt: Date? = nil,
        scopes: Set<String> = [],
        revokedAt: Date? = nil
    ) -> TokenRecord {
        TokenRecord(
            id: .random(),
            owner: owner,
            name: name,
            createdAt: createdAt,
            expiresAt: expiresAt,
            scopes: scopes,
            revokedAt: revokedAt,
            digest: SHA256Hasher().digest(of: TokenFormat.default.generate())
        )
    }
}
