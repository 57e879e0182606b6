// The hashing target: SHA-256, HMAC-SHA-256 and CRC-32 on every implementation this processor runs.

// MARK: hashing

/// Every SHA-256 implementation available here (the processor's instructions and the portable
/// code) gives the same digest for the input, hashed at once and in two pieces, and so does
/// HMAC-SHA-256 keyed with the input's first bytes; every CRC-32 implementation gives the same
/// checksum, at once, in two pieces, and from an unaligned start.
func fuzzHashing(_ bytes: [UInt8]) {
    fuzzSHA256(bytes)
    fuzzCRC32(bytes)
}

private func fuzzSHA256(_ bytes: [UInt8]) {
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

private func fuzzCRC32(_ bytes: [UInt8]) {
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    bytes.withUnsafeBytes { raw in
        let expected = CRC32.update(0, raw, using: .portable)
        let unaligned = UnsafeRawBufferPointer(rebasing: raw[min(1, raw.count)...])
        let expectedUnaligned = CRC32.update(0, unaligned, using: .portable)
        for implementation in CRC32.Implementation.available {
            guard CRC32.update(0, raw, using: implementation) == expected else {
                fuzzFailure("CRC-32 \(implementation) differs from the portable code on \(raw.count) bytes")
            }
            let first = CRC32.update(0, UnsafeRawBufferPointer(rebasing: raw[..<cut]), using: implementation)
            guard CRC32.update(first, UnsafeRawBufferPointer(rebasing: raw[cut...]), using: implementation) == expected
            else {
                fuzzFailure("CRC-32 \(implementation) in pieces cut at \(cut) differs on \(raw.count) bytes")
            }
            guard CRC32.update(0, unaligned, using: implementation) == expectedUnaligned else {
                fuzzFailure("CRC-32 \(implementation) from an unaligned start differs on \(raw.count) bytes")
            }
        }
    }
}
