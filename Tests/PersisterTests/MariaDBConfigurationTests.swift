import MariaDB
import Testing
import TestSupport

@Suite("MariaDB URL", .offCooperativePool)
struct MariaDBConfigurationTests {
    @Test func fullURL() throws {
        let configuration = try MariaDBConfiguration(url: "mariadb://chat:s3cret@db.example:3307/chat")
        #expect(configuration.endpoint == .tcp(host: "db.example", port: 3307))
        #expect(configuration.username == "chat")
        #expect(configuration.password == "s3cret")
        #expect(configuration.database == "chat")
    }

    @Test func defaultsToPort3306WithoutPassword() throws {
        let configuration = try MariaDBConfiguration(url: "mariadb://root@127.0.0.1/chat")
        #expect(configuration.endpoint == .tcp(host: "127.0.0.1", port: 3306))
        #expect(configuration.password == nil)
    }

    @Test func percentDecodesCredentials() throws {
        let configuration = try MariaDBConfiguration(url: "mariadb://us%40er:p%2Fa%3As%25s%E5%AF%86@h/chat")
        #expect(configuration.username == "us@er")
        #expect(configuration.password == "p/a:s%s密")
    }

    @Test func emptyPasswordIsKept() throws {
        let configuration = try MariaDBConfiguration(url: "mariadb://root:@h/chat")
        #expect(configuration.password == "")
    }

    @Test func unixSocket() throws {
        let configuration = try MariaDBConfiguration(url: "mariadb://root@/chat?socket=/run/mysqld/mysqld.sock")
        #expect(configuration.endpoint == .unixSocket(path: "/run/mysqld/mysqld.sock"))
        #expect(configuration.database == "chat")
        let withHost = try MariaDBConfiguration(url: "mariadb://root@localhost/chat?socket=/tmp/s")
        #expect(withHost.endpoint == .unixSocket(path: "/tmp/s"))
    }

    @Test func ipv6Host() throws {
        #expect(try MariaDBConfiguration(url: "mariadb://root@[::1]:3310/chat").endpoint == .tcp(host: "::1", port: 3310))
        #expect(try MariaDBConfiguration(url: "mariadb://root@[::1]/chat").endpoint == .tcp(host: "::1", port: 3306))
    }

    @Test func mysqlSchemeIsASynonym() throws {
        #expect(try MariaDBConfiguration(url: "mysql://root@h/chat").database == "chat")
    }

    @Test(arguments: [
        ("http://root@h/chat", "expected mariadb://"),
        ("mariadb:/root@h/chat", "expected mariadb://"),
        ("chat", "expected mariadb://"),
        ("", "expected mariadb://"),
        ("mariadb://h/chat", "missing user"),
        ("mariadb://@h/chat", "empty user"),
        ("mariadb://root@h", "missing database"),
        ("mariadb://root@h/", "missing database"),
        ("mariadb://root@/chat", "missing host"),
        ("mariadb://root@h:0/chat", "bad port"),
        ("mariadb://root@h:70000/chat", "bad port"),
        ("mariadb://root@h:x/chat", "bad port"),
        ("mariadb://root@[::1/chat", "unclosed"),
        ("mariadb://root@h/chat?socket=relative", "absolute path"),
        ("mariadb://root@h/chat?ssl=1", "unknown parameter 'ssl'"),
        ("mariadb://ro%4@h/chat", "bad percent escape in the user"),
        ("mariadb://root:%zz@h/chat", "bad percent escape in the password"),
        ("mariadb://root:%FF@h/chat", "not UTF-8"),
        ("mariadb://root@h/ch.at", "may only contain"),
        ("mariadb://root@h/ch`at", "may only contain"),
        ("mariadb://root@h/" + String(repeating: "a", count: 65), "1 to 64"),
    ])
    func rejectsBadURLs(url: String, reason: String) {
        #expect {
            try MariaDBConfiguration(url: url)
        } throws: { error in
            let description = String(describing: error)
            return description.contains(reason) && !description.contains("\n")
        }
    }

    @Test func descriptionMasksThePassword() throws {
        let configuration = try MariaDBConfiguration(url: "mariadb://chat:s3cret@db:3307/chat")
        #expect(configuration.description == "mariadb://chat:***@db:3307/chat")
        #expect(!configuration.description.contains("s3cret"))
        let socket = try MariaDBConfiguration(url: "mariadb://root@/chat?socket=/tmp/s")
        #expect(socket.description == "mariadb://root@/chat?socket=/tmp/s")
    }

    @Test func withoutDatabase() throws {
        let configuration = try MariaDBConfiguration(url: "mariadb://root@h/chat")
        #expect(configuration.withoutDatabase.database == nil)
        #expect(configuration.withoutDatabase.endpoint == configuration.endpoint)
    }

    @Test func quotesIdentifiers() {
        #expect(MariaDBConnection.quoteIdentifier("group") == "`group`")
        #expect(MariaDBConnection.quoteIdentifier("a`b") == "`a``b`")
    }
}
