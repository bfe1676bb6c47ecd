import ArgumentParser
import ChatRuntime
import MariaDB
@testable import Persister
import Testing
import TestSupport

@Suite("persister options", .offCooperativePool)
struct PersisterOptionsTests {
    @Test func defaultIsTheDocumentedURL() throws {
        let options = try PersisterOptions.parse([])
        let resolved = try options.resolveMariaDB(environment: [:])
        #expect(resolved == (try MariaDBConfiguration(url: PersisterOptions.defaultMariaDBURL)))
        #expect(PersisterOptions.defaultMariaDBURL == "mariadb://root@127.0.0.1:3306/chat")
    }

    @Test func environmentThenFlag() throws {
        let environment = ["MARIADB_URL": "mariadb://env@h1/db_env"]
        let fromEnvironment = try PersisterOptions.parse([]).resolveMariaDB(environment: environment)
        #expect(fromEnvironment.username == "env")
        let fromFlag = try PersisterOptions.parse(["--mariadb-url", "mariadb://flag@h2/db_flag"])
            .resolveMariaDB(environment: environment)
        #expect(fromFlag.username == "flag")
        #expect(fromFlag.database == "db_flag")
    }

    /// What `persister migrate` prints before exiting with 64: one line naming the option.
    @Test(arguments: ["http://x", "mariadb://root@127.0.0.1:3306", "mariadb://root@h:99999/chat", "nonsense"])
    func badEnvironmentValueNamesTheOption(url: String) throws {
        let command = try MigrateCommand.parse([])
        #expect {
            try PersisterSettings.resolve(common: command.common, persister: command.persister, environment: ["MARIADB_URL": url])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            let line = error.description
            return error.option == "mariadb-url" && line.contains("--mariadb-url") && line.contains("MARIADB_URL")
                && line.contains(url) && !line.contains("\n")
        }
    }

    @Test func badFlagValueNamesTheOption() throws {
        let command = try RunCommand.parse(["--mariadb-url", "mariadb://root@h/bad.name"])
        #expect(throws: ConfigurationError.self) {
            try PersisterSettings.resolve(common: command.common, persister: command.persister, environment: [:])
        }
    }

    @Test func settingsSplitServerAndDatabase() throws {
        let command = try MigrateCommand.parse(["--mariadb-url", "mariadb://u:p@h:3307/chat_x"])
        let settings = try PersisterSettings.resolve(common: command.common, persister: command.persister, environment: [:])
        #expect(settings.database == "chat_x")
        #expect(settings.mariaDBServer.database == nil)
        #expect(settings.mariaDB.database == "chat_x")
        #expect(settings.mariaDB.endpoint == .tcp(host: "h", port: 3307))
    }

    @Test(arguments: ["run", "migrate"])
    func helpDocumentsEveryOptionWithItsEnvironmentVariableAndDefault(subcommand: String) throws {
        let type: ParsableCommand.Type = subcommand == "run" ? RunCommand.self : MigrateCommand.self
        let help = PersisterCommand.helpMessage(for: type, columns: 1000)
        for expected in [
            "--mariadb-url", "env MARIADB_URL", "default mariadb://root@127.0.0.1:3306/chat",
            "--redis-url", "env REDIS_URL", "--log-level", "env LOG_LEVEL", "--node-id", "env NODE_ID",
        ] {
            #expect(help.contains(expected), "\(subcommand) --help lacks \(expected)")
        }
    }

    @Test func subcommands() {
        let names = PersisterCommand.configuration.subcommands.map { $0._commandName }
        #expect(names == ["run", "migrate", "status", "hydrate", "verify", "import-askanswers"])
    }
}
