import ChatRuntime
import Logging
import MariaDB

/// Everything the persister's commands need, validated.
struct PersisterSettings: Sendable {
    var common: CommonSettings
    /// The server and account, without a default database.
    var mariaDBServer: MariaDBConfiguration
    /// The persister's database on that server (always named: the URL requires it).
    var database: String

    /// The server with ``database`` as the session's default database.
    var mariaDB: MariaDBConfiguration {
        var configuration = mariaDBServer
        configuration.database = database
        return configuration
    }

    var logLevel: Logger.Level { common.logLevel }

    /// Flags, then environment variables, then defaults; the first bad value is thrown.
    static func resolve(
        common: CommonOptions, persister: PersisterOptions, environment: [String: String]
    ) throws(ConfigurationError) -> PersisterSettings {
        let commonSettings = try common.resolve(environment: environment)
        let mariaDB = try persister.resolveMariaDB(environment: environment)
        guard let database = mariaDB.database else {
            // MariaDBConfiguration(url:) never gives a URL without a database.
            throw PersisterOptions.mariaDBURLSetting.fail("the URL must name a database")
        }
        return PersisterSettings(common: commonSettings, mariaDBServer: mariaDB.withoutDatabase, database: database)
    }
}
