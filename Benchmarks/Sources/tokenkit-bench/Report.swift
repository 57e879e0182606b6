/// The Markdown report: one table per section, TokenKit and its peer side by side.
struct Report {
    struct Row {
        var benchmark: String
        var tokenKit: String
        var peer: String = "—"
        var ratio: String = "—"
        var target: String = "—"
    }

    private(set) var sections: [(title: String, peerName: String, rows: [Row])] = []

    mutating func section(_ title: String, peer: String, _ rows: [Row]) {
        sections.append((title, peer, rows))
        print(markdown(of: sections.count - 1))
    }

    func markdown(of index: Int) -> String {
        let (title, peerName, rows) = sections[index]
        var lines = [
            "### \(title)", "", "| benchmark | TokenKit | \(peerName) | TokenKit vs peer | target |",
            "|---|---|---|---|---|",
        ]
        for row in rows {
            lines.append("| \(row.benchmark) | \(row.tokenKit) | \(row.peer) | \(row.ratio) | \(row.target) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var markdown: String {
        sections.indices.map(markdown(of:)).joined(separator: "\n")
    }
}
