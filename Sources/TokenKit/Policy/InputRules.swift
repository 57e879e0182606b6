/// The rules for owners, scopes and allow-lists, shared by every operation that accepts them.
enum InputRules {
    /// The most scopes one token may hold.
    static let maximumScopes = 100

    /// An owner is 1 to 255 UTF-8 bytes with no control character and no `:` (which separates the
    /// user from the token in `cpanel USER:TOKEN`).
    static func validateOwner(_ owner: String) throws(TokenKitError) {
        guard !owner.isEmpty, owner.utf8.count <= 255,
            !owner.unicodeScalars.contains(where: { $0 == ":" || $0.properties.generalCategory == .control })
        else {
            throw TokenKitError(
                .invalidOwner,
                "\(quoted(owner)) is not a valid owner: use 1 to 255 bytes with no control characters and no \":\"."
            )
        }
    }

    /// A scope is 1 to 64 characters of `A-Z a-z 0-9 _ . : -`; a token holds at most 100.
    static func validateScopes(_ scopes: Set<String>) throws(TokenKitError) {
        guard scopes.count <= maximumScopes else {
            throw TokenKitError(
                .invalidScope,
                "An API token may hold at most \(maximumScopes) scopes; you gave \(scopes.count)."
            )
        }
        for scope in scopes {
            guard (1...64).contains(scope.utf8.count), scope.utf8.allSatisfy(isScopeCharacter) else {
                throw TokenKitError(
                    .invalidScope,
                    "\(quoted(scope)) is not a valid scope: use 1 to 64 characters of A-Z, a-z, 0-9, “_”, “.”, “:” and “-”."
                )
            }
        }
    }

    /// An allow-list holds at most ``TokenRecord/maximumAllowedNetworks`` entries.
    static func validateNetworks(_ networks: [IPNetwork]) throws(TokenKitError) {
        guard networks.count <= TokenRecord.maximumAllowedNetworks else {
            throw TokenKitError(
                .tooManyNetworks,
                "An API token may allow at most \(TokenRecord.maximumAllowedNetworks) IP addresses or ranges; you gave \(networks.count)."
            )
        }
    }

    private static func isScopeCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"),
            UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
