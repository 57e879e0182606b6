import Foundation

/// Appends little-endian integers, dates and short strings to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) { integer(value) }

    mutating func u32(_ value: UInt32) { integer(value) }

    mutating func u64(_ value: UInt64) { integer(value) }

    /// A date, exactly: the bits of its `timeIntervalSinceReferenceDate`.
    mutating func date(_ value: Date) { u64(value.timeIntervalSinceReferenceDate.bitPattern) }

    /// A string of at most 65,535 UTF-8 bytes, after its length.
    mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        u16(UInt16(utf8.count))
        bytes += utf8
    }

    mutating func raw(_ value: some Sequence<UInt8>) { bytes += value }

    private mutating func integer(_ value: some FixedWidthInteger) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}

/// Reads what ``ByteWriter`` wrote, refusing to read past the end.
struct ByteReader {
    /// The bytes ran out, or held a value no writer produces.
    struct Malformed: Error {}

    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func u8() throws(Malformed) -> UInt8 { try integer() }

    mutating func u16() throws(Malformed) -> UInt16 { try integer() }

    mutating func u32() throws(Malformed) -> UInt32 { try integer() }

    mutating func u64() throws(Malformed) -> UInt64 { try integer() }

    mutating func date() throws(Malformed) -> Date {
        let interval = Double(bitPattern: try u64())
        guard interval.isFinite else { throw Malformed() }
        return Date(timeIntervalSinceReferenceDate: interval)
    }

    mutating func string() throws(Malformed) -> String {
        let count = Int(try u16())
        return String(decoding: try raw(count), as: UTF8.self)
    }

    mutating func raw(_ count: Int) throws(Malformed) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - offset else { throw Malformed() }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    private mutating func integer<T: FixedWidthInteger>() throws(Malformed) -> T {
        let size = MemoryLayout<T>.size
        guard size <= bytes.count - offset else { throw Malformed() }
        defer { offset += size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
