// Hashes N tokens with each of TokenKit's hashers. `.ci/allocation-check` runs it under valgrind with
// two values of N: equal heap-allocation counts prove that hashing allocates nothing per token.
import TokenKit

let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1_000
let token = Array(TokenFormat.default.generate().utf8)
let hashers: [any TokenHasher] = [SHA256Hasher(), HMACSHA256Hasher(key: Array("pepper".utf8))]
var checksum: UInt8 = 0
token.withUnsafeBytes { bytes in
    for hasher in hashers {
        for _ in 0..<count {
            checksum ^= withUnsafeBytes(of: hasher.digest(bytes)) { $0[0] }
        }
    }
}
print("hashed \(count) tokens twice, checksum \(checksum)")
