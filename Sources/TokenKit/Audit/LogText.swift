/// Text made safe to write into a log line: what a client or a token's creator typed can neither
/// break the line nor disguise it.
///
/// Control characters (such as a newline or an escape sequence), format characters (such as the
/// right-to-left override U+202E, which reorders what a terminal shows, or a zero-width space) and
/// line or paragraph separators are written as Swift escapes (`\n`, `\u{202E}`). Everything else is
/// kept. Audit events' ``TokenAuditEvent/description`` and TokenKit's messages use it; log sinks
/// should too.
public enum LogText {
    /// `text` with every character that could break or disguise a log line escaped.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscaping) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if needsEscaping(scalar) {
                result += scalar.escaped(asASCII: true)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}
