import Foundation

/// The process's memory, from /proc/self/status (Linux).
struct ProcessMemory {
    /// Resident set size now, in bytes.
    var resident: Int
    /// The highest resident set size so far, in bytes.
    var peak: Int

    static func current() -> ProcessMemory {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func kilobytes(_ key: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return 0 }
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) * 1024
        }
        return ProcessMemory(resident: kilobytes("VmRSS:"), peak: kilobytes("VmHWM:"))
    }
}
