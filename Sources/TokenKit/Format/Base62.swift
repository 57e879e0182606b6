/// The base62 alphabet of TokenKit tokens: digits, then upper case, then lower case.
enum Base62 {
    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// log2(62): the bits of entropy carried by one random base62 character.
    static let bitsPerCharacter = 5.954_196_310_386_876

    /// The value (0–61) of each byte as a base62 digit, or ``notADigit``.
    static let values: [UInt8] = (0...255).map { byte in
        alphabet.firstIndex(of: UInt8(byte)).map(UInt8.init) ?? notADigit
    }

    /// The entry of ``values`` for bytes that are not base62 digits.
    static let notADigit: UInt8 = 0xff

    /// Encodes `value` as exactly `width` base62 digits, most significant first, padded with `0`.
    static func encode(_ value: UInt32, width: Int) -> [UInt8] {
        var digits = [UInt8](repeating: alphabet[0], count: width)
        var rest = value
        for index in stride(from: width - 1, through: 0, by: -1) {
            digits[index] = alphabet[Int(rest % 62)]
            rest /= 62
        }
        return digits
    }

    /// Returns `count` characters, each drawn uniformly from the alphabet with `generator`.
    ///
    /// Uses rejection sampling (bytes of 248 or more are skipped) so that no character is more likely
    /// than another.
    static func randomCharacters(count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        var characters: [UInt8] = []
        characters.reserveCapacity(count)
        while characters.count < count {
            var word = generator.next() as UInt64
            for _ in 0..<8 where characters.count < count {
                let byte = UInt8(truncatingIfNeeded: word)
                word >>= 8
                if byte < 248 {
                    characters.append(alphabet[Int(byte % 62)])
                }
            }
        }
        return characters
    }
}
