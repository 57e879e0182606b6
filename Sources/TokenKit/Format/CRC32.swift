internal import CTokenKitCRC32

/// CRC-32 (IEEE 802.3, the zlib and PNG polynomial), used for the checksum that ends every token
/// and for the checksums of the file store's batches, records and index pages.
///
/// Runs of 64 bytes or more go to the processor's own instructions when it has them (the C target
/// `CTokenKitCRC32`: carry-less multiplication on x86-64, the CRC32 instructions on arm64), about
/// ten times faster; the rest, and everything on other processors, to the portable Swift code
/// below, which works eight bytes at a time ("slicing-by-8"). Both give the same checksums. The
/// file store checks a 4 KiB index page each time it reads one, so this decides what a look-up of
/// an unknown token costs.
enum CRC32 {
    /// Which code processes runs of 64 bytes or more.
    enum Implementation: Sendable, Hashable, CaseIterable {
        /// Slicing-by-8 in Swift: runs everywhere.
        case portable
        /// The processor's instructions. Only where ``isHardwareAvailable``.
        case hardware

        /// Whether this processor has the instructions (asked once: cpuid, `getauxval` or sysctl).
        static let isHardwareAvailable = tokenkit_crc32_hardware_available() != 0

        /// The implementation checksums use: the fastest this processor runs.
        static let fastest: Implementation = isHardwareAvailable ? .hardware : .portable

        /// Every implementation this processor runs, for tests that compare them.
        static var available: [Implementation] { isHardwareAvailable ? [.portable, .hardware] : [.portable] }
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        update(0, UnsafeRawBufferPointer(bytes))
    }

    /// Extends `crc`, the checksum of some bytes, to the checksum of those bytes followed by `bytes`,
    /// with `implementation` (``Implementation/hardware`` only where it is available).
    static func update(
        _ crc: UInt32,
        _ bytes: UnsafeRawBufferPointer,
        using implementation: Implementation = .fastest
    ) -> UInt32 {
        precondition(implementation == .portable || Implementation.isHardwareAvailable)
        var register = crc ^ 0xffff_ffff
        var rest = bytes
        if implementation == .hardware, bytes.count >= 64, let start = bytes.baseAddress {
            // Whole 16-byte blocks to the instructions, the few bytes after them below.
            let whole = bytes.count & ~15
            register = tokenkit_crc32_update_hardware(register, start, whole)
            rest = UnsafeRawBufferPointer(rebasing: bytes[whole...])
        }
        return updatePortably(register, rest) ^ 0xffff_ffff
    }

    /// Extends the CRC register (the checksum with its bits inverted) over `bytes`, in Swift.
    private static func updatePortably(_ register: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = register
        tables.withUnsafeBufferPointer { table in
            var index = 0
            let count = bytes.count
            while index + 8 <= count {
                let low = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self))
                crc =
                    table[7 * 256 + Int(low & 0xff)] ^ table[6 * 256 + Int((low >> 8) & 0xff)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xff)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xff)] ^ table[2 * 256 + Int((high >> 8) & 0xff)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xff)] ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = table[Int((crc ^ UInt32(bytes[index])) & 0xff)] ^ (crc >> 8)
                index += 1
            }
        }
        return crc
    }

    /// Eight tables of 256 entries: table 0 is the classic byte table; table k advances a byte's
    /// contribution by k more zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var value = UInt32(byte)
            for _ in 0..<8 {
                value = value & 1 == 1 ? 0xedb8_8320 ^ (value >> 1) : value >> 1
            }
            tables[byte] = value
        }
        for byte in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[(slice - 1) * 256 + byte]
                tables[slice * 256 + byte] = tables[Int(previous & 0xff)] ^ (previous >> 8)
            }
        }
        return tables
    }()
}
