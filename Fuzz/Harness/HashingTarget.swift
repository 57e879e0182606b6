// The hashing target: SHA-256 and HMAC-SHA-256 on every implementation this processor runs.

// MARK: sha256

/// Every SHA-256 implementation available here (the processor's instructions and the portable
/// code) gives the same digest for the input, hashed at once and in two pieces, and so does
/// HMAC-SHA-256 keyed with the input's first bytes.
func fuzzSHA256(_ bytes: [UInt8]) {
    let expected = bytes.withUnsafeBytes { SHA256.hash($0, implementation: .portable) }
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    let key = Array(bytes.prefix(cut))
    let expectedMAC = bytes.withUnsafeBytes { HMACSHA256Hasher(key: key, implementation: .portable).digest($0) }
    for implementation in SHA256.Implementation.available {
        guard bytes.withUnsafeBytes({ SHA256.hash($0, implementation: implementation) }) == expected else {
            fuzzFailure("SHA-256 \(implementation) differs from the portable code on \(bytes.count) bytes")
        }
        var pieces = SHA256(implementation: implementation)
        bytes[..<cut].withUnsafeBytes { pieces.update($0) }
        bytes[cut...].withUnsafeBytes { pieces.update($0) }
        guard pieces.finalize() == expected else {
            fuzzFailure("SHA-256 \(implementation) in pieces cut at \(cut) differs on \(bytes.count) bytes")
        }
        let mac = bytes.withUnsafeBytes { HMACSHA256Hasher(key: key, implementation: implementation).digest($0) }
        guard mac == expectedMAC else {
            fuzzFailure("HMAC-SHA-256 \(implementation) differs with a \(key.count)-byte key")
        }
    }
}
