/// A store's answer to a look-up by digest made without waiting:
/// ``TokenStore/immediateRecord(forDigest:)``.
public enum ImmediateLookup: Sendable, Hashable {
    /// The store holds this record for the digest.
    case found(TokenRecord)
    /// The store holds no record for the digest.
    case notFound
    /// The store cannot answer without waiting (for a database, a lock held across I/O, …); ask
    /// ``TokenStore/record(forDigest:)``.
    case unavailable
}
