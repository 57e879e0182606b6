import Foundation

extension TokenRecord: Codable {
    /// The record's keys, stable across releases: `id`, `owner`, `name`, `created_at`,
    /// `expires_at`, `scopes`, `allowed_networks`, `last_used_at`, `revoked_at`, `disabled_at`,
    /// `digest` and `lineage_id`.
    ///
    /// Ids are 32 hex digits, the digest 64; scopes a sorted array; networks CIDR text such as
    /// `"192.0.2.0/24"`; dates whole microseconds since 1970-01-01T00:00:00Z as integers
    /// (``TokenStoreRules/microsecondsSince1970(_:)``), exact whatever the encoder's date strategy;
    /// absent optional dates are omitted.
    public enum CodingKeys: String, CodingKey {
        /// ``TokenRecord/id``.
        case id
        /// ``TokenRecord/owner``.
        case owner
        /// ``TokenRecord/name``.
        case name
        /// ``TokenRecord/createdAt``.
        case createdAt = "created_at"
        /// ``TokenRecord/expiresAt``.
        case expiresAt = "expires_at"
        /// ``TokenRecord/scopes``.
        case scopes
        /// ``TokenRecord/allowedNetworks``.
        case allowedNetworks = "allowed_networks"
        /// ``TokenRecord/lastUsedAt``.
        case lastUsedAt = "last_used_at"
        /// ``TokenRecord/revokedAt``.
        case revokedAt = "revoked_at"
        /// ``TokenRecord/disabledAt``.
        case disabledAt = "disabled_at"
        /// ``TokenRecord/digest``.
        case digest
        /// ``TokenRecord/lineageID``.
        case lineageID = "lineage_id"
    }

    /// Encodes the record with ``CodingKeys``.
    ///
    /// - Throws: `EncodingError.invalidValue` for a date a store cannot keep
    ///   (``TokenStoreRules/checkDate(_:)``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.description, forKey: .id)
        try container.encode(owner, forKey: .owner)
        try container.encode(name, forKey: .name)
        try container.encode(Self.microseconds(createdAt, .createdAt), forKey: .createdAt)
        try container.encodeIfPresent(expiresAt.map { try Self.microseconds($0, .expiresAt) }, forKey: .expiresAt)
        try container.encode(scopes.sorted(), forKey: .scopes)
        try container.encode(allowedNetworks.map(\.description), forKey: .allowedNetworks)
        try container.encodeIfPresent(lastUsedAt.map { try Self.microseconds($0, .lastUsedAt) }, forKey: .lastUsedAt)
        try container.encodeIfPresent(revokedAt.map { try Self.microseconds($0, .revokedAt) }, forKey: .revokedAt)
        try container.encodeIfPresent(disabledAt.map { try Self.microseconds($0, .disabledAt) }, forKey: .disabledAt)
        try container.encode(digest.hex, forKey: .digest)
        try container.encode(lineageID.description, forKey: .lineageID)
    }

    /// Decodes a record encoded with ``CodingKeys``.
    ///
    /// - Throws: `DecodingError.dataCorrupted` for a malformed id, digest, network or date.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func id(_ key: CodingKeys) throws -> TokenID {
            guard let id = TokenID(try container.decode(String.self, forKey: key)) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not a token id")
            }
            return id
        }
        func date(_ key: CodingKeys) throws -> Date? {
            guard let microseconds = try container.decodeIfPresent(Int64.self, forKey: key) else { return nil }
            do {
                return try TokenStoreRules.date(microsecondsSince1970: microseconds)
            } catch {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: error.message)
            }
        }
        guard let digest = TokenDigest(hex: try container.decode(String.self, forKey: .digest)) else {
            throw DecodingError.dataCorruptedError(forKey: .digest, in: container, debugDescription: "not a digest")
        }
        guard let createdAt = try date(.createdAt) else {
            throw DecodingError.keyNotFound(
                CodingKeys.createdAt,
                .init(codingPath: container.codingPath, debugDescription: "created_at is required")
            )
        }
        let networks = try container.decode([String].self, forKey: .allowedNetworks).map { text in
            do {
                return try IPNetwork(parsing: text)
            } catch {
                throw DecodingError.dataCorruptedError(
                    forKey: .allowedNetworks,
                    in: container,
                    debugDescription: "not an IP network: \(text)"
                )
            }
        }
        self.init(
            id: try id(.id),
            owner: try container.decode(String.self, forKey: .owner),
            name: try container.decode(String.self, forKey: .name),
            createdAt: createdAt,
            expiresAt: try date(.expiresAt),
            scopes: Set(try container.decode([String].self, forKey: .scopes)),
            allowedNetworks: networks,
            lastUsedAt: try date(.lastUsedAt),
            revokedAt: try date(.revokedAt),
            disabledAt: try date(.disabledAt),
            digest: digest,
            lineageID: try id(.lineageID)
        )
    }

    private static func microseconds(_ date: Date, _ key: CodingKeys) throws -> Int64 {
        do {
            return try TokenStoreRules.microsecondsSince1970(date)
        } catch {
            throw EncodingError.invalidValue(
                date,
                .init(codingPath: [key], debugDescription: error.message, underlyingError: error)
            )
        }
    }
}
