import Foundation

/// One change in a `FileTokenStore` log: every store operation is a sequence of these.
enum LogEntry: Sendable, Equatable {
    /// Add a record, or replace the record with its id.
    case put(TokenRecord)
    /// Remove the record with this id.
    case remove(TokenID)
    /// Record the hasher the store's digests are made with.
    case hasher(TokenHasherIdentity)

    private static let putKind: UInt8 = 1
    private static let removeKind: UInt8 = 2
    private static let hasherKind: UInt8 = 3

    private struct DateFlags: OptionSet {
        let rawValue: UInt8
        static let expires = DateFlags(rawValue: 1)
        static let lastUsed = DateFlags(rawValue: 2)
        static let revoked = DateFlags(rawValue: 4)
        static let disabled = DateFlags(rawValue: 8)
        /// Not a date: the record continues another token's lineage, whose id follows the dates.
        static let lineage = DateFlags(rawValue: 16)
        static let all: DateFlags = [.expires, .lastUsed, .revoked, .disabled, .lineage]
    }

    func encode(into writer: inout ByteWriter) {
        switch self {
        case .remove(let id):
            writer.u8(Self.removeKind)
            Self.encode(id, into: &writer)
        case .hasher(let identity):
            writer.u8(Self.hasherKind)
            writer.string(identity.algorithm)
            writer.string(identity.keyFingerprint)
        case .put(let record):
            writer.u8(Self.putKind)
            Self.encode(record.id, into: &writer)
            writer.raw(record.digest.bytes)
            writer.date(record.createdAt)
            var flags: DateFlags = []
            if record.expiresAt != nil { flags.insert(.expires) }
            if record.lastUsedAt != nil { flags.insert(.lastUsed) }
            if record.revokedAt != nil { flags.insert(.revoked) }
            if record.disabledAt != nil { flags.insert(.disabled) }
            if record.lineageID != record.id { flags.insert(.lineage) }
            writer.u8(flags.rawValue)
            for date in [record.expiresAt, record.lastUsedAt, record.revokedAt, record.disabledAt] {
                if let date { writer.date(date) }
            }
            if flags.contains(.lineage) { Self.encode(record.lineageID, into: &writer) }
            writer.string(record.owner)
            writer.string(record.name)
            writer.u16(UInt16(record.scopes.count))
            for scope in record.scopes.sorted() { writer.string(scope) }
            writer.u16(UInt16(record.allowedNetworks.count))
            for network in record.allowedNetworks {
                let address = network.address
                writer.u8(address.family == .ipv4 ? 4 : 6)
                writer.u8(UInt8(network.prefixLength))
                if address.family == .ipv6 { writer.u64(address.high) }
                writer.u64(address.low)
            }
        }
    }

    static func decode(from reader: inout ByteReader) throws(ByteReader.Malformed) -> LogEntry {
        switch try reader.u8() {
        case removeKind:
            return .remove(try decodeID(from: &reader))
        case hasherKind:
            let algorithm = try reader.string()
            let identity = TokenHasherIdentity(algorithm: algorithm, keyFingerprint: try reader.string())
            return .hasher(identity)
        case putKind:
            let id = try decodeID(from: &reader)
            guard let digest = TokenDigest(bytes: try reader.raw(32)) else { throw ByteReader.Malformed() }
            let createdAt = try reader.date()
            let flags = DateFlags(rawValue: try reader.u8())
            guard flags.isSubset(of: .all) else { throw ByteReader.Malformed() }
            let expiresAt = flags.contains(.expires) ? try reader.date() : nil
            let lastUsedAt = flags.contains(.lastUsed) ? try reader.date() : nil
            let revokedAt = flags.contains(.revoked) ? try reader.date() : nil
            let disabledAt = flags.contains(.disabled) ? try reader.date() : nil
            let lineageID = flags.contains(.lineage) ? try decodeID(from: &reader) : id
            let owner = try reader.string()
            let name = try reader.string()
            var scopes: Set<String> = []
            for _ in 0..<(try reader.u16()) { scopes.insert(try reader.string()) }
            var networks: [IPNetwork] = []
            for _ in 0..<(try reader.u16()) {
                let family = try reader.u8()
                let prefixLength = Int(try reader.u8())
                let address: IPAddress
                switch family {
                case 4: address = IPAddress(family: .ipv4, high: 0, low: try reader.u64())
                case 6:
                    let high = try reader.u64()
                    let low = try reader.u64()
                    address = IPAddress(family: .ipv6, high: high, low: low)
                    // An IPv4 address mapped into IPv6 is stored as IPv4: the store rules refuse to
                    // write one (TokenStoreRules.checkNetworks).
                    guard !address.isIPv4MappedIPv6 else { throw ByteReader.Malformed() }
                default: throw ByteReader.Malformed()
                }
                // `try?` is safe: an impossible prefix length is a malformed entry, thrown below.
                guard let network = try? IPNetwork(address: address, prefixLength: prefixLength) else {
                    throw ByteReader.Malformed()
                }
                networks.append(network)
            }
            return .put(
                TokenRecord(
                    id: id,
                    owner: owner,
                    name: name,
                    createdAt: createdAt,
                    expiresAt: expiresAt,
                    scopes: scopes,
                    allowedNetworks: networks,
                    lastUsedAt: lastUsedAt,
                    revokedAt: revokedAt,
                    disabledAt: disabledAt,
                    digest: digest,
                    lineageID: lineageID
                )
            )
        default:
            throw ByteReader.Malformed()
        }
    }

    private static func encode(_ id: TokenID, into writer: inout ByteWriter) {
        writer.u64(id.high)
        writer.u64(id.low)
    }

    private static func decodeID(from reader: inout ByteReader) throws(ByteReader.Malformed) -> TokenID {
        let high = try reader.u64()
        return TokenID(high: high, low: try reader.u64())
    }
}

extension TokenIndex {
    /// Why `entry`, read from a store file, cannot be applied to the index: it gives an existing
    /// record another owner, digest, creation date or lineage, or reuses another record's digest.
    /// TokenKit never writes such an entry (``TokenStoreRules`` forbids it), so the file is
    /// corrupt — and applying it would leave an owner's list showing another owner's token.
    func conflict(with entry: LogEntry) -> String? {
        guard case .put(let record) = entry else { return nil }
        if let existing = self.record(id: record.id) {
            guard existing.owner == record.owner, existing.digest == record.digest,
                existing.createdAt == record.createdAt, existing.lineageID == record.lineageID
            else {
                return "record \(record.id) appears with another owner, digest, creation date or lineage"
            }
        } else if let holder = self.record(forDigest: record.digest) {
            return "records \(holder.id) and \(record.id) share a digest"
        }
        return nil
    }

    /// Applies one log entry.
    mutating func apply(_ entry: LogEntry) {
        switch entry {
        case .put(let record): put(record)
        case .remove(let id): remove(id: id)
        case .hasher(let identity): hasher = identity
        }
    }
}
