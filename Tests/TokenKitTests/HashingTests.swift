import Foundation
import Testing

@testable import TokenKit

struct SHA256Tests {
    /// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
    @Test(
        arguments: SHA256.Implementation.available,
        [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ]
    )
    func fipsExamples(implementation: SHA256.Implementation, example: (message: String, expected: String)) {
        #expect(hash(Array(example.message.utf8), implementation).hex == example.expected)
    }

    @Test(arguments: SHA256.Implementation.available)
    func oneMillionAs(implementation: SHA256.Implementation) {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(hash(message, implementation).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every implementation this processor runs gives the portable code's digest for random
    /// messages of every length from 0 to 1,000 bytes, hashed at once and in pieces.
    @Test func implementationsAgreeOnEveryLength() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...1_000 {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = hash(message, .portable)
            for implementation in SHA256.Implementation.available {
                #expect(hash(message, implementation) == expected, "\(implementation), length \(length)")
                var pieces = SHA256(implementation: implementation)
                let cut = Int.random(in: 0...length, using: &generator)
                message[..<cut].withUnsafeBytes { pieces.update($0) }
                message[cut...].withUnsafeBytes { pieces.update($0) }
                #expect(pieces.finalize() == expected, "\(implementation), length \(length) cut at \(cut)")
            }
        }
    }

    /// The processor's SHA-256 instructions are used where the kernel reports them, so that CI on
    /// such a machine runs the hardware path (and a broken feature check fails here).
    @Test func hardwareIsUsedWhereTheProcessorHasIt() throws {
        #if os(Linux) && (arch(x86_64) || arch(arm64))
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }))
        #if arch(x86_64)
        let reported = flags.contains("sha_ni")
        #else
        let reported = flags.contains("sha2")
        #endif
        #expect(SHA256.Implementation.isHardwareAvailable == reported)
        let used: SHA256.Implementation =
            reported && !SHA256.Implementation.isPortableRequested ? .hardware : .portable
        #expect(SHA256.Implementation.fastest == used)
        #endif
    }

    /// Lengths around the padding boundaries (55/56 bytes) and block boundaries (64, 120), checked
    /// against Python's hashlib.
    @Test(
        arguments: SHA256.Implementation.available,
        [
            (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
            (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
            (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
            (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
            (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
            (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
            (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
            (300, "9835fa6bf4e20a9b9ea812506302e98982721a6cf8d2cae67af57129bf21ae90"),
        ]
    )
    func boundaryLengths(implementation: SHA256.Implementation, example: (length: Int, expected: String)) {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: example.length)
        #expect(hash(message, implementation).hex == example.expected)
    }

    @Test func defaultHasherMatchesEveryImplementation() {
        let token = TokenFormat.default.generate()
        for implementation in SHA256.Implementation.available {
            #expect(SHA256Hasher().digest(of: token) == hash(Array(token.utf8), implementation))
        }
    }

    private func hash(_ message: [UInt8], _ implementation: SHA256.Implementation) -> TokenDigest {
        message.withUnsafeBytes { SHA256.hash($0, implementation: implementation) }
    }

    @Test func streamingInPiecesMatchesOneShot() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 300, 1000] {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let oneShot = message.withUnsafeBytes { SHA256.hash($0) }
            var streaming = SHA256()
            var offset = 0
            while offset < length {
                let piece = min(Int.random(in: 1...70, using: &generator), length - offset)
                message[offset..<offset + piece].withUnsafeBytes { streaming.update($0) }
                offset += piece
            }
            #expect(streaming.finalize() == oneShot, "length \(length)")
        }
    }
}

struct HMACSHA256Tests {
    /// RFC 4231 test cases 1–7 (case 5 compares the 128-bit truncation, as the RFC does).
    @Test(
        arguments: [
            (
                [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                [UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
            ),
            (
                Array(1...25), [UInt8](repeating: 0xcd, count: 50),
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
            ),
            (
                [UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8),
                "a3b6167473100ee06e0c796c2955552b"
            ),
            (
                [UInt8](repeating: 0xaa, count: 131),
                Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
            (
                [UInt8](repeating: 0xaa, count: 131),
                Array(
                    "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
                        .utf8
                ),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
            ),
        ] as [([UInt8], [UInt8], String)]
    )
    func rfc4231(key: [UInt8], message: [UInt8], expected: String) {
        let digest = message.withUnsafeBytes { HMACSHA256Hasher(key: key).digest($0) }
        #expect(digest.hex.hasPrefix(expected))
        for implementation in SHA256.Implementation.available {
            let forced = message.withUnsafeBytes {
                HMACSHA256Hasher(key: key, implementation: implementation).digest($0)
            }
            #expect(forced.hex.hasPrefix(expected), "\(implementation)")
        }
    }

    @Test func differentKeysGiveDifferentDigests() {
        let token = TokenFormat.default.generate()
        let a = HMACSHA256Hasher(key: Array("key one".utf8)).digest(of: token)
        let b = HMACSHA256Hasher(key: Array("key two".utf8)).digest(of: token)
        #expect(a != b)
        #expect(a != SHA256Hasher().digest(of: token))
        #expect(HMACSHA256Hasher(key: Array("key one".utf8)).algorithm == "hmac-sha256")
    }
}

struct TokenDigestTests {
    @Test func bytesAndHexRoundTrip() throws {
        let digest = SHA256Hasher().digest(of: "abc")
        #expect(TokenDigest(bytes: digest.bytes) == digest)
        #expect(TokenDigest(hex: digest.hex) == digest)
        #expect(TokenDigest(hex: digest.hex.uppercased()) == digest)
        #expect(digest.bytes.count == 32)
    }

    @Test(arguments: [
        "", "abc", String(repeating: "0", count: 63), String(repeating: "g", count: 64),
        String(repeating: "0", count: 65),
    ])
    func rejectsBadHex(_ hex: String) {
        #expect(TokenDigest(hex: hex) == nil)
    }

    @Test func rejectsWrongByteCounts() {
        #expect(TokenDigest(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(TokenDigest(bytes: [UInt8](repeating: 1, count: 33)) == nil)
    }

    @Test func equalityLooksAtEveryWord() {
        let base = TokenDigest(1, 2, 3, 4)
        #expect(base == TokenDigest(1, 2, 3, 4))
        #expect(base != TokenDigest(0, 2, 3, 4))
        #expect(base != TokenDigest(1, 0, 3, 4))
        #expect(base != TokenDigest(1, 2, 0, 4))
        #expect(base != TokenDigest(1, 2, 3, 0))
    }
}
