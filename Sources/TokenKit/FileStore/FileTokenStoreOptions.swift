extension FileTokenStore {
    /// How a ``FileTokenStore`` opens and writes its file. Every setting has a safe default.
    public struct Options: Sendable {
        /// When a write reaches stable storage.
        public enum Durability: Sendable {
            /// Every mutating call returns only after its change is on stable storage (`fdatasync`,
            /// or `F_FULLFSYNC` on Apple platforms). The default.
            case synchronous
            /// Changes are written but not forced to stable storage: a power loss can lose the
            /// latest of them. For tests only.
            case unsynchronized
        }

        /// Whether the store may be written.
        public enum Access: Sendable {
            /// Read and write: the default. The file and its lock file are created when absent.
            case readWrite
            /// Read only: validate, look up and list, on read-only media or without write
            /// permission. Nothing is created, repaired or written; writes throw
            /// ``TokenKitError/Code/readOnlyStorage``. A torn tail is ignored rather than cut off,
            /// and a store with no recorded hasher accepts any (it cannot record one).
            case readOnly
        }

        /// What to do when the file is damaged before its end.
        public enum Recovery: Sendable {
            /// Refuse to open, with a ``TokenKitError/Code/storeCorrupted`` error that names the
            /// offset. The default: nothing is changed or dropped.
            case refuse
            /// Keep every intact record, move the damaged file aside (its new path is in
            /// ``FileTokenStore/OpenReport/damagedFileMovedTo``), and write a clean store.
            case salvageIntactRecords
        }

        /// When writes reach stable storage. Default: ``Durability/synchronous``.
        public var durability: Durability
        /// Whether the store may be written. Default: ``Access/readWrite``.
        public var access: Access
        /// How long to wait for another process's write lock before failing with
        /// ``TokenKitError/Code/storeLocked``. Default: 10 seconds.
        public var lockTimeout: Duration
        /// Whether to open a store file that group or others may read or write. Default: `false`.
        public var allowInsecurePermissions: Bool
        /// What to do with a file damaged before its end. Default: ``Recovery/refuse``.
        public var recovery: Recovery
        /// The fewest dead log entries (replaced or removed records) that trigger compaction, which
        /// also waits until dead entries outnumber live records. Default: 10,000.
        public var compactionThreshold: Int

        /// Creates options; every parameter has the default described on its property.
        public init(
            durability: Durability = .synchronous,
            access: Access = .readWrite,
            lockTimeout: Duration = .seconds(10),
            allowInsecurePermissions: Bool = false,
            recovery: Recovery = .refuse,
            compactionThreshold: Int = 10_000
        ) {
            self.durability = durability
            self.access = access
            self.lockTimeout = lockTimeout
            self.allowInsecurePermissions = allowInsecurePermissions
            self.recovery = recovery
            self.compactionThreshold = compactionThreshold
        }
    }

    /// What opening the store found and did.
    public struct OpenReport: Hashable, Sendable {
        /// The records read into memory: every record, or, when the store opened from its index
        /// file, those its log changed since the last compaction (the others are read when first
        /// needed).
        public var recordsLoaded: Int
        /// Whether the store opened from the index file its last compaction wrote (`<path>.index`),
        /// reading only the log written since. `false` for a store never compacted by this version,
        /// or whose index file is missing, damaged or from another compaction: it read its whole log.
        public var openedFromIndexFile = false
        /// Bytes of an interrupted last write that were discarded: a commit cut short by a crash,
        /// whose call had not returned.
        public var discardedTailBytes: Int
        /// Where the damaged file was moved by ``Options/Recovery/salvageIntactRecords``, if it was.
        public var damagedFileMovedTo: String?
        /// Bytes of damaged data skipped by salvage (not the zeros preallocated after the last
        /// commit).
        public var skippedDamagedBytes: Int
    }
}
