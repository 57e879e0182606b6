/// A store that keeps a `TokenIndex` in memory and validates from its inline entries without
/// waiting: ``InMemoryTokenStore`` and ``FileTokenStore``. The manager asks these stores through
/// ``immediateValidation(of:_:recordingRejections:)`` instead of
/// ``TokenStore/immediateRecord(forDigest:)``, so that a validation builds a record only for its
/// answer.
///
/// Internal on purpose: the public protocol stays about records, which any store can give; this is
/// how the two stores that share TokenKit's index skip the record.
protocol IndexedTokenStore: TokenStore {
    /// ``TokenIndex/validate(digest:_:recordingRejections:)`` on the store's current index.
    ///
    /// - Throws: What the store's reads throw.
    func immediateValidation(
        of digest: TokenDigest,
        _ request: ValidationRequest,
        recordingRejections: Bool
    ) throws -> IndexValidation
}
