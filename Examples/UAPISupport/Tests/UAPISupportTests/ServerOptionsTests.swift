import ArgumentParser
import Testing
import TokenKitPostgres
import UAPISupport

struct ServerOptionsTests {
    @Test func postgresReplacesTheStoreFile() throws {
        let options = try ServerOptions.parse(["--postgres", "postgres://app@db.internal:6543/tokens"])
        guard case .postgres(let url) = try options.storeLocation() else {
            Issue.record("not PostgreSQL")
            return
        }
        #expect(url.host == "db.internal" && url.port == 6543 && url.database == "tokens")
        #expect(throws: (any Error).self) {
            try ServerOptions.parse(["--postgres", "postgres://a@b/c", "--store", "/tmp/x"]).storeLocation()
        }
        #expect(throws: (any Error).self) { try ServerOptions.parse(["--postgres", "mysql://a@b/c"]).storeLocation() }
    }

    @Test func maxStalenessTakesMillisecondsSecondsAndMinutes() throws {
        #expect(
            try ServerOptions.parse(["--store", "/tmp/tokens.tkstore", "--max-staleness", "500ms"]).staleness()
                == .milliseconds(500)
        )
        #expect(
            try ServerOptions.parse(["--store", "/tmp/tokens.tkstore", "--max-staleness", "2s"]).staleness()
                == .seconds(2)
        )
        #expect(
            try ServerOptions.parse(["--store", "/tmp/tokens.tkstore", "--max-staleness", "1m"]).staleness()
                == .seconds(60)
        )
        #expect(try ServerOptions.parse(["--store", "/tmp/tokens.tkstore"]).staleness() == .seconds(1))
        for text in ["5ms", "2h", "fast", "-1s", "99999m", ""] {
            #expect(throws: (any Error).self, "\(text)") {
                try ServerOptions.parse(["--store", "/tmp/tokens.tkstore", "--max-staleness", text]).staleness()
            }
        }
    }
}
