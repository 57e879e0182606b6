/// The bytes of a `FileTokenStore` file, version 3. The DocC article "The file store's format"
/// describes the same layout for people.
///
/// Version 2 added a log entry kind (the hasher identity) and a record flag (its lineage); version
/// 3 lets the log end with preallocated zeros. This version reads version 1 and 2 files and a
/// writer rewrites their header as version 3 when it first opens them, so that older releases,
/// which would take the new entries or the zeros for damage, refuse the file instead.
///
/// ```
/// header (40 bytes)
///   0  "TOKENKIT"            magic
///   8  u32 version           3 (2: before preallocated zeros; 1: before hasher identities)
///  12  u32 flags             0
///  16  u64 snapshotEnd       offset where the snapshot written by compaction ends
///  24  u64 snapshotSequence  the sequence number of that snapshot (0 when there is none)
///  32  u32 reserved          0
///  36  u32 crc32             of bytes 0..<36
/// batches, each:
///   0  u32 magic             "TKB1"
///   4  u32 payloadLength     at most 1 MiB
///   8  u64 sequence          the commit (group) this batch belongs to
///  16  u32 part              0, 1, 2… within the group
///  20  u32 flags             bit 0: last part of the group
///  24  u32 crc32             of bytes 4..<24 and the payload
///  28  payload               log entries
/// then, from version 3, zeros where the next batch header would be: preallocated space
/// ```
///
/// All integers are little-endian. A group is one commit: it counts only when all its parts are
/// intact, so a commit is all-or-nothing however the disk tore it.
enum StoreFileFormat {
    static let magic = Array("TOKENKIT".utf8)
    /// 3: the log may end with preallocated zeros (2: hasher entries and lineages; 1: the first).
    static let version: UInt32 = 3
    /// The versions this release reads.
    static let readableVersions: ClosedRange<UInt32> = 1...3
    static let headerSize = 40
    static let batchMagic: UInt32 = 0x3142_4B54  // "TKB1" in little-endian order
    static let batchHeaderSize = 28
    static let maximumPayload = 1 << 20
    static let lastPartFlag: UInt32 = 1

    /// The file header.
    struct Header: Equatable {
        var snapshotEnd: Int
        var snapshotSequence: UInt64
        /// The format version the file was written in; ``encoded()`` writes it.
        var version: UInt32 = StoreFileFormat.version

        /// The header of a new, empty store.
        static let empty = Header(snapshotEnd: headerSize, snapshotSequence: 0)

        func encoded() -> [UInt8] {
            var writer = ByteWriter()
            writer.raw(magic)
            writer.u32(self.version)
            writer.u32(0)
            writer.u64(UInt64(snapshotEnd))
            writer.u64(snapshotSequence)
            writer.u32(0)
            writer.u32(writer.bytes.withUnsafeBytes { CRC32.update(0, $0) })
            return writer.bytes
        }

        /// Decodes a header, or explains why `bytes` is not one.
        static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(TokenKitError) -> Header {
            guard bytes.count >= headerSize, bytes.prefix(8).elementsEqual(magic) else {
                throw TokenKitError(
                    .storeCorrupted,
                    "\(quoted(path)) is not a TokenKit token store (no \"TOKENKIT\" header at offset 0); check the path."
                )
            }
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes.prefix(headerSize)))
            do {
                _ = try reader.raw(8)
                let version = try reader.u32()
                guard StoreFileFormat.readableVersions.contains(version) else {
                    throw TokenKitError(
                        .storeCorrupted,
                        "\(quoted(path)) is format version \(version); this TokenKit reads versions \(StoreFileFormat.readableVersions.lowerBound) to \(StoreFileFormat.version). Upgrade TokenKit to open it."
                    )
                }
                _ = try reader.u32()
                let snapshotEnd = try reader.u64()
                let snapshotSequence = try reader.u64()
                _ = try reader.u32()
                let checksum = try reader.u32()
                guard checksum == CRC32.update(0, UnsafeRawBufferPointer(rebasing: bytes.prefix(36))),
                    snapshotEnd >= UInt64(headerSize), snapshotEnd <= UInt64(Int.max)
                else { throw ByteReader.Malformed() }
                return Header(snapshotEnd: Int(snapshotEnd), snapshotSequence: snapshotSequence, version: version)
            } catch let error as TokenKitError {
                throw error
            } catch {
                throw TokenKitError(
                    .storeCorrupted,
                    "The header of \(quoted(path)) is damaged (offset 0); restore the file from a backup."
                )
            }
        }
    }

    /// Encodes `entries` as one group with `sequence`: one or more batches of at most
    /// ``maximumPayload`` bytes each.
    static func encodeGroup(_ entries: [LogEntry], sequence: UInt64) -> [UInt8] {
        var output: [UInt8] = []
        var payload = ByteWriter()
        var part: UInt32 = 0
        for (index, entry) in entries.enumerated() {
            entry.encode(into: &payload)
            let isLast = index == entries.count - 1
            if isLast || payload.bytes.count >= maximumPayload - 16 * 1024 {
                appendBatch(payload.bytes, sequence: sequence, part: part, isLast: isLast, to: &output)
                payload = ByteWriter()
                part += 1
            }
        }
        return output
    }

    /// Appends one batch to `output`.
    static func appendBatch(_ payload: [UInt8], sequence: UInt64, part: UInt32, isLast: Bool, to output: inout [UInt8])
    {
        var header = ByteWriter()
        header.u32(batchMagic)
        header.u32(UInt32(payload.count))
        header.u64(sequence)
        header.u32(part)
        header.u32(isLast ? lastPartFlag : 0)
        var crc = header.bytes.withUnsafeBytes { CRC32.update(0, UnsafeRawBufferPointer(rebasing: $0.dropFirst(4))) }
        crc = payload.withUnsafeBytes { CRC32.update(crc, $0) }
        header.u32(crc)
        output += header.bytes
        output += payload
    }
}
