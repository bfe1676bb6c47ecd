import ArgumentParser
import ChatRuntime
import MariaDB

/// Options of the persister's own, beside ``CommonOptions``. Like those, each falls back
/// to an environment variable, then to a default.
struct PersisterOptions: ParsableArguments, Sendable {
    static let defaultMariaDBURL = "mariadb://root@127.0.0.1:3306/chat"
    static let mariaDBURLSetting = Setting("mariadb-url", env: "MARIADB_URL")

    @Option(
        name: .customLong("mariadb-url"),
        help: "MariaDB address: mariadb://user[:password]@host[:port]/database, optionally ?socket=/path for a unix socket (env MARIADB_URL, default \(Self.defaultMariaDBURL))."
    )
    var mariaDBURL: String?

    init() {}

    /// The validated MariaDB configuration; a bad URL is one `ConfigurationError` naming
    /// `--mariadb-url` and `MARIADB_URL`.
    func resolveMariaDB(environment: [String: String]) throws(ConfigurationError) -> MariaDBConfiguration {
        try Self.mariaDBURLSetting.resolve(
            flag: mariaDBURL, environment: environment,
            default: MariaDBConfiguration(endpoint: .tcp(host: "127.0.0.1", port: 3306), username: "root", database: "chat")
        ) { text in
            do {
                return try MariaDBConfiguration(url: text)
            } catch {
                throw Self.mariaDBURLSetting.fail("'\(text)': \(error)")
            }
        }
    }
}
