import CMalloc
import Foundation

/// The process's memory, from /proc/self/status (Linux).
struct ProcessMemory {
    /// Resident set size now, in bytes.
    var resident: Int
    /// The highest resident set size so far, in bytes.
    var peak: Int
    /// Resident anonymous memory (the heap: what the process built), in bytes.
    var anonymous: Int
    /// Resident file-backed memory (mapped files, read from the page cache), in bytes.
    var fileBacked: Int

    static func current() -> ProcessMemory {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func kilobytes(_ key: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return 0 }
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) * 1024
        }
        return ProcessMemory(
            resident: kilobytes("VmRSS:"),
            peak: kilobytes("VmHWM:"),
            anonymous: kilobytes("RssAnon:"),
            fileBacked: kilobytes("RssFile:")
        )
    }
}

/// Returns the allocator's free memory to the system (glibc's `malloc_trim`), so that resident
/// memory counts what is in use. Nothing elsewhere (musl and Apple platforms have no
/// `malloc_trim`; /proc, which the memory rows read, is Linux's).
func returnFreeMemory() {
    #if canImport(Glibc)
    malloc_trim(0)
    #endif
}
