/// The bytes of a `FileTokenStore` index file (`<path>.index`), version 1. The DocC article "The
/// file store's format" describes the same layout for people.
///
/// Compaction writes it beside the log it has just written, for that log's snapshot: where each
/// snapshot record is in the log, and three hash tables to find them by digest, by id and by
/// owner. Opening a store then reads this file's header and checksums instead of decoding every
/// record; records are decoded from the log when first needed.
///
/// ```
/// page 0: header
///   0  "TKINDEX1"              magic
///   8  u32 version             1
///  12  u32 pageSize            4096
///  16  u64 snapshotSequence    the log's, as in its header
///  24  u64 snapshotEnd         the log's, as in its header
///  32  u64 lastBatchOffset     where the snapshot's last batch starts in the log
///  40  u32 lastBatchCRC        that batch's checksum, as in its header
///  44  u32 recordCount
///  48  u32 digestBucketCount
///  52  u32 idBucketCount
///  56  u32 ownerBucketCount
///  60  u32 memberCount
///  64  u32 checksumPage        the first page of the page checksums
///  68  u32 checksumsCRC        crc32 of the page checksums
///  72  u8  hasHasher           1 when the snapshot records a hasher, then two strings
///      u16 length + UTF-8      the hasher's algorithm
///      u16 length + UTF-8      its key fingerprint
/// 4092 u32 crc32               of bytes 0..<4092
/// from page 1, each section starting on a page:
///   records      recordCount × { u64 offset, u32 length, u32 crc32 }  an entry in the log
///   by digest    digestBucketCount × { u32 tag, u32 record + 1 }      0 = empty
///   by id        idBucketCount × { u32 tag, u32 record + 1 }          0 = empty
///   by owner     ownerBucketCount × { u64 hash, u32 first, u32 count } count 0 = empty
///   members      memberCount × u32 record                              each owner's records
///   checksums    u32 crc32 of each page from 1 to checksumPage − 1
/// ```
///
/// All integers are little-endian. The hash tables use linear probing from the bucket
/// `hash × bucketCount ÷ 2⁶⁴`, and are at most 4/5 full, so every probe ends at an empty bucket.
/// The file is identified with its log by the snapshot's sequence, end and last batch: when they
/// do not match (a crash between the two renames of a compaction, or a log compacted by an older
/// TokenKit), the store ignores the index and reads the whole log, as it always could.
enum IndexFileFormat {
    static let magic = Array("TKINDEX1".utf8)
    static let version: UInt32 = 1
    static let pageSize = 4096
    static let recordEntrySize = 16
    static let bucketSize = 8
    static let ownerBucketSize = 16
    static let memberSize = 4
    /// The most records an index file describes (record numbers are 32-bit, and 0 marks empty).
    static let maximumRecords = Int(UInt32.max / 2)
    /// The most bytes of hasher algorithm and key fingerprint the header page holds.
    static let maximumHasherBytes = 2048

    /// The header page's fields.
    struct Header: Equatable {
        var snapshotSequence: UInt64
        var snapshotEnd: Int
        var lastBatchOffset: Int
        var lastBatchCRC: UInt32
        var recordCount: Int
        var digestBucketCount: Int
        var idBucketCount: Int
        var ownerBucketCount: Int
        var memberCount: Int
        var checksumPage: Int
        var checksumsCRC: UInt32
        var hasher: TokenHasherIdentity?

        /// The first page of each section, in file order.
        var recordsPage: Int { 1 }
        var digestPage: Int { recordsPage + IndexFileFormat.pages(recordCount * recordEntrySize) }
        var idPage: Int { digestPage + IndexFileFormat.pages(digestBucketCount * bucketSize) }
        var ownerPage: Int { idPage + IndexFileFormat.pages(idBucketCount * bucketSize) }
        var memberPage: Int { ownerPage + IndexFileFormat.pages(ownerBucketCount * ownerBucketSize) }
        var expectedChecksumPage: Int { memberPage + IndexFileFormat.pages(memberCount * memberSize) }

        func encoded() -> [UInt8] {
            var writer = ByteWriter()
            writer.raw(magic)
            writer.u32(version)
            writer.u32(UInt32(pageSize))
            writer.u64(snapshotSequence)
            writer.u64(UInt64(snapshotEnd))
            writer.u64(UInt64(lastBatchOffset))
            writer.u32(lastBatchCRC)
            for count in [recordCount, digestBucketCount, idBucketCount, ownerBucketCount, memberCount, checksumPage] {
                writer.u32(UInt32(count))
            }
            writer.u32(checksumsCRC)
            if let hasher {
                writer.u8(1)
                writer.string(hasher.algorithm)
                writer.string(hasher.keyFingerprint)
            } else {
                writer.u8(0)
            }
            var page = writer.bytes + [UInt8](repeating: 0, count: pageSize - 4 - writer.bytes.count)
            var checksum = ByteWriter()
            checksum.u32(CRC32.checksum(page))
            page += checksum.bytes
            return page
        }

        /// Decodes a header page; `nil` when it is not one this version wrote whole.
        static func decode(_ page: [UInt8]) -> Header? {
            guard page.count == pageSize, page.prefix(8).elementsEqual(magic) else { return nil }
            return page.withUnsafeBytes { bytes -> Header? in
                let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: pageSize - 4, as: UInt32.self))
                guard stored == CRC32.update(0, UnsafeRawBufferPointer(rebasing: bytes.prefix(pageSize - 4))) else {
                    return nil
                }
                var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes.dropFirst(8)))
                do throws(ByteReader.Malformed) {
                    guard try reader.u32() == version, try reader.u32() == UInt32(pageSize) else { return nil }
                    let sequence = try reader.u64()
                    let end = try reader.u64()
                    let lastBatch = try reader.u64()
                    guard end <= UInt64(Int.max), lastBatch < end else { return nil }
                    var header = Header(
                        snapshotSequence: sequence,
                        snapshotEnd: Int(end),
                        lastBatchOffset: Int(lastBatch),
                        lastBatchCRC: try reader.u32(),
                        recordCount: Int(try reader.u32()),
                        digestBucketCount: Int(try reader.u32()),
                        idBucketCount: Int(try reader.u32()),
                        ownerBucketCount: Int(try reader.u32()),
                        memberCount: Int(try reader.u32()),
                        checksumPage: Int(try reader.u32()),
                        checksumsCRC: try reader.u32()
                    )
                    if try reader.u8() == 1 {
                        let algorithm = try reader.string()
                        header.hasher = TokenHasherIdentity(algorithm: algorithm, keyFingerprint: try reader.string())
                    }
                    // Tables of other sizes than the writer's are not this format's: a full one
                    // would make a probe run on.
                    guard header.recordCount <= maximumRecords,
                        header.digestBucketCount == bucketCount(for: header.recordCount),
                        header.idBucketCount == bucketCount(for: header.recordCount),
                        header.ownerBucketCount > 0,
                        header.ownerBucketCount <= bucketCount(for: header.recordCount),
                        header.memberCount == header.recordCount,
                        header.checksumPage == header.expectedChecksumPage
                    else { return nil }
                    return header
                } catch {
                    return nil
                }
            }
        }
    }

    /// The number of pages `bytes` bytes take, at least one.
    static func pages(_ bytes: Int) -> Int { max(1, (bytes + pageSize - 1) / pageSize) }

    /// The number of buckets for `count` keys: at most 4/5 full, and at least one empty.
    static func bucketCount(for count: Int) -> Int { count + count / 4 + 1 }

    // MARK: Hashing

    /// A 64-bit mix (the finaliser of SplitMix64): every input bit moves every output bit.
    static func mix(_ value: UInt64) -> UInt64 {
        var value = value &+ 0x9E37_79B9_7F4A_7C15
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    static func hash(_ digest: TokenDigest) -> UInt64 { mix(digest.w0 ^ mix(digest.w1)) }

    static func hash(_ id: TokenID) -> UInt64 { mix(id.high ^ mix(id.low)) }

    /// FNV-1a over the owner's UTF-8, mixed: the same in every process (unlike `Hasher`).
    static func hash(owner: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in owner.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return mix(hash)
    }

    /// The bucket a key's probe starts at.
    static func home(of hash: UInt64, in bucketCount: Int) -> Int {
        Int(hash.multipliedFullWidth(by: UInt64(bucketCount)).high)
    }

    /// The 32 bits of a key's hash a bucket keeps to skip most other keys without reading records.
    static func tag(of hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash) }
}
