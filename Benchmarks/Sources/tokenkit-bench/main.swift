import Foundation
import TokenKit

// tokenkit-bench make-store PATH COUNT   fill a file store with COUNT realistic tokens
// tokenkit-bench open-store PATH         open it in this (fresh) process; print time and memory

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "make-store":
    let started = ContinuousClock.now
    try await StoreFixtures.makeFileStore(at: arguments[1], count: Int(arguments[2])!)
    let size = try FileManager.default.attributesOfItem(atPath: arguments[1])[.size] as! Int
    print("made \(arguments[2]) tokens in \(ContinuousClock.now - started); file \(size) bytes")
case "open-store":
    let before = ProcessMemory.current()
    let started = ContinuousClock.now
    let store = try FileTokenStore(path: arguments[1])
    let elapsed = ContinuousClock.now - started
    let after = ProcessMemory.current()
    let count = try store.count
    let size = try FileManager.default.attributesOfItem(atPath: arguments[1])[.size] as! Int
    print(
        "opened \(count) tokens in \(elapsed); disk \(size / max(count, 1)) B/token; "
            + "memory \((after.resident - before.resident) / max(count, 1)) B/token resident, "
            + "peak \(after.peak / 1_048_576) MiB (process before open: \(before.resident / 1_048_576) MiB)"
    )
default:
    print("usage: tokenkit-bench make-store PATH COUNT | open-store PATH")
}
