import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `tokenkit-store-helper` executable, run as a separate process.
final class HelperProcess {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffered: [UInt8] = []

    /// The helper's path: beside the test bundle, where SwiftPM builds it.
    static var executable: URL {
        let candidates = [CommandLine.arguments[0], Bundle.main.bundlePath, Bundle.main.executablePath ?? ""]
            .map {
                URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("tokenkit-store-helper")
            }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    init(_ arguments: [String]) throws {
        process.executableURL = Self.executable
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Kills the helper with SIGKILL and waits for it to die.
    func kill() {
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for the helper to exit.
    func wait() { process.waitUntilExit() }

    /// Every complete line the helper printed (call after it has exited).
    func lines() -> [String] {
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let text = String(decoding: buffered + Array(data), as: UTF8.self)
        var lines = text.components(separatedBy: "\n")
        lines.removeLast()  // the text after the last newline: empty, or a line cut short
        return lines
    }

    /// Sends one command line and returns the helper's one-line answer.
    func ask(_ command: String) throws -> String {
        input.fileHandleForWriting.write(Data((command + "\n").utf8))
        return readLine()
    }

    /// Reads the next line the helper prints.
    func readLine() -> String {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { return "" }
            buffered += data
        }
    }
}
