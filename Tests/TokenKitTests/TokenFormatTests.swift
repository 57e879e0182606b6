import Foundation
import Testing

@testable import TokenKit

struct TokenFormatTests {
    let format = TokenFormat.default

    @Test func generatedTokensValidateAndLookAsDocumented() throws {
        let token = format.generate()
        try format.validate(token)
        #expect(token.hasPrefix("tk_"))
        #expect(token.count == 3 + 43 + 6)
        #expect(format.length == 52)
        #expect(format.randomBits >= 256)
    }

    @Test func tokensAreUnique() {
        let tokens = Set((0..<10_000).map { _ in format.generate() })
        #expect(tokens.count == 10_000)
    }

    @Test func systemRandomWordsRefillPastTheirBatchAndNeverRepeat() {
        // One system call per 3 words here: the 4th, 7th … come from refills.
        var generator = SystemRandomWords(batch: 3)
        let words = (0..<3_000).map { _ in generator.next() }
        #expect(Set(words).count == 3_000)
        // Every bit position takes both values: no refill left zeros behind.
        #expect(words.reduce(0, |) == .max)
        #expect(words.reduce(.max, &) == 0)
        // A batch of zero words still draws one at a time.
        var single = SystemRandomWords(batch: 0)
        #expect(single.next() != single.next())
    }

    @Test func randomCharactersCoverTheWholeAlphabet() {
        let characters = Set((0..<200).flatMap { _ in format.generate().dropFirst(3).dropLast(6) })
        #expect(characters.count == 62)
    }

    @Test func scannerPatternMatchesTokensInText() throws {
        let token = format.generate()
        let text = "leaked: \(token), and a fake tk_short"
        let regex = try NSRegularExpression(pattern: format.scannerPattern)
        let matches = regex.matches(in: text, range: NSRange(text.startIndex..., in: text))
        #expect(matches.count == 1)
        #expect(matches.first.map { (text as NSString).substring(with: $0.range) } == token)
        #expect(format.scannerPattern == "\\btk_[0-9A-Za-z]{49}\\b")
    }

    @Test func checksumIsCRC32() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xcbf4_3926)
        #expect(Base62.encode(0xcbf4_3926, width: 6) == Array("3jZRME".utf8))
        #expect(Base62.encode(0, width: 6) == Array("000000".utf8))
    }

    /// Lengths around the 8-byte stride of the sliced CRC and the 16- and 64-byte blocks of the
    /// processor's, checked against zlib, with every implementation this processor runs.
    @Test(
        arguments: [
            (0, 0x0000_0000),
            (1, 0x4b0b_be37),
            (7, 0x5449_1cdb),
            (8, 0xe2e3_5978),
            (9, 0x3d35_1cfe),
            (15, 0x7c61_9edc),
            (16, 0x191f_3d9f),
            (17, 0x7ba7_5ee3),
            (63, 0xb735_0c2a),
            (64, 0xcbd9_ecf0),
            (65, 0x6d19_5777),
            (79, 0xf8bd_aeac),
            (80, 0x3f42_d103),
            (100, 0xaa31_6b09),
            (127, 0xefb6_6daa),
            (128, 0xbd5d_2e01),
            (1000, 0x17bc_2a46),
            (4096, 0x5e4e_1995),
            (4097, 0xcb30_97e5),
        ] as [(Int, UInt32)],
        CRC32.Implementation.available
    )
    func crc32MatchesZlib(_ example: (length: Int, expected: UInt32), implementation: CRC32.Implementation) {
        let (length, expected) = example
        let bytes = (0..<length).map { UInt8(($0 * 7 + 3) % 256) }
        let whole = bytes.withUnsafeBytes { CRC32.update(0, $0, using: implementation) }
        #expect(whole == expected)
        let split = length / 3
        let streamed = bytes.withUnsafeBytes { raw in
            CRC32.update(
                CRC32.update(0, UnsafeRawBufferPointer(rebasing: raw[..<split]), using: implementation),
                UnsafeRawBufferPointer(rebasing: raw[split...]),
                using: implementation
            )
        }
        #expect(streamed == expected)
    }

    @Test(.enabled(if: CRC32.Implementation.isHardwareAvailable, "this processor has no CRC-32 instructions"))
    func crc32ImplementationsAgreeOnRandomBytesAtAnyAlignment() {
        #expect(CRC32.Implementation.fastest == .hardware)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<9000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { raw in
            for _ in 0..<3000 {
                let start = Int.random(in: 0..<64, using: &generator)
                let count = Int.random(in: 0...(raw.count - start), using: &generator)
                let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + count)])
                let seed = UInt32.random(in: 0...UInt32.max, using: &generator)
                let portable = CRC32.update(seed, slice, using: .portable)
                #expect(CRC32.update(seed, slice, using: .hardware) == portable, "\(count) bytes from \(start)")
            }
        }
    }

    @Test func customPrefixAndLength() throws {
        let format = try TokenFormat(prefix: "acme2", randomBits: 160)
        let token = format.generate()
        try format.validate(token)
        #expect(token.hasPrefix("acme2_"))
        #expect(format.randomLength == 27)
        #expect(throws: TokenFormatError(.wrongPrefix)) { try TokenFormat.default.validate(token) }
    }

    @Test(arguments: ["", "TK", "tk-1", "tk_", "has space", "abcdefghijklmnopq", "ünï"])
    func refusesBadPrefixes(_ prefix: String) {
        #expect(throws: TokenKitError.self) { try TokenFormat(prefix: prefix) }
    }

    @Test(arguments: [0, 159, 1025])
    func refusesBadEntropy(_ bits: Int) {
        #expect(throws: TokenKitError.self) { try TokenFormat(randomBits: bits) }
    }

    static let sample = TokenFormat.default.generate()

    static let malformed: [(String, TokenFormatError.Reason)] = [
        ("", .wrongPrefix),
        ("ghp_abc", .wrongPrefix),
        ("tk", .wrongPrefix),
        ("TK_" + String(sample.dropFirst(3)), .wrongPrefix),
        (" " + sample, .wrongPrefix),
        ("tk_", .wrongLength),
        (String(sample.dropLast()), .wrongLength),
        (sample + "0", .wrongLength),
        (sample + "\n", .wrongLength),
        ("tk_" + String(repeating: "a", count: 1_000_000), .wrongLength),
        (String(sample.dropLast()) + "!", .badCharacter),
        (String(sample.dropLast()) + "é", .wrongLength),
        ("tk_" + String(repeating: "_", count: 49), .badCharacter),
        ("tk_" + String(repeating: "0", count: 49), .checksumMismatch),
        ("tk_" + String(repeating: "z", count: 49), .checksumMismatch),
    ]

    @Test(arguments: malformed)
    func rejectsMalformedTokens(token: String, reason: TokenFormatError.Reason) {
        #expect(throws: TokenFormatError(reason)) { try format.validate(token) }
    }

    @Test func everySingleCharacterTypoIsCaught() {
        let token = Array(format.generate().utf8)
        for position in 3..<token.count {
            for replacement in Base62.alphabet where replacement != token[position] {
                var typo = token
                typo[position] = replacement
                #expect(throws: TokenFormatError(.checksumMismatch)) { try format.validate(bytes: typo) }
            }
        }
    }

    @Test func swappedNeighboursAreCaught() {
        let token = Array(format.generate().utf8)
        for position in 3..<(token.count - 1) where token[position] != token[position + 1] {
            var typo = token
            typo.swapAt(position, position + 1)
            #expect(throws: TokenFormatError(.checksumMismatch)) { try format.validate(bytes: typo) }
        }
    }

    @Test func nonUTF8BytesAreRejectedNotTrapped() {
        var bytes = Array(format.generate().utf8)
        bytes[10] = 0xff
        #expect(throws: TokenFormatError(.badCharacter)) { try format.validate(bytes: bytes) }
        #expect(throws: TokenFormatError(.wrongPrefix)) { try format.validate(bytes: [0xc3, 0x28, 0xa0, 0xa1]) }
        let repaired = String(decoding: bytes, as: UTF8.self)
        #expect(throws: TokenFormatError.self) { try format.validate(repaired) }
    }

    @Test func randomGarbageNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...80, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator) { bytes = Array("tk_".utf8) + bytes }
            #expect(throws: TokenFormatError.self) { try format.validate(bytes: bytes) }
        }
    }

    @Test func errorsExplainThemselves() {
        #expect(TokenFormatError(.checksumMismatch).description.contains("checksum"))
        #expect(TokenFormatError.Reason.wrongLength.code == "wrong_length")
    }
}
