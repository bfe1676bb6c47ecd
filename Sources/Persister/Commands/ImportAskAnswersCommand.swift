import ArgumentParser
import ChatRuntime
import Logging

/// `persister import-askanswers DIR`: the old eggjs server's Q&A files into MariaDB.
struct ImportAskAnswersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-askanswers",
        abstract: "Import the old server's Q&A files (DIR/chatuser_{type}_{id}.json) into MariaDB's askanswer table; idempotent. Run `persister hydrate` after it. Refuses while a bridge is alive (exit 3)."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var persister: PersisterOptions
    @OptionGroup var bridges: BridgeGuardOptions

    @Flag(name: .customLong("dry-run"), help: "Read the files and apply them in transactions that are rolled back: the report, nothing written.")
    var dryRun = false

    @Argument(help: "The folder of the Q&A files (the old server's data/askAnswer).")
    var directory: String

    func run() async throws {
        let tool = OneShotSession.start("import-askanswers", common: common, persister: persister)
        let deadAfter: Int64
        do {
            deadAfter = try bridges.deadAfterMilliseconds(environment: processEnvironment())
        } catch {
            Self.exit(configurationError: error)
        }
        let report = try await tool.run("import-askanswers") { session, redis in
            try await bridges.check(redis: redis, keys: tool.settings.common.keys, deadAfterMilliseconds: deadAfter, command: "import-askanswers", warnOnly: dryRun, logger: tool.logger)
            var importer = AskAnswerImporter(session: session, logger: tool.logger)
            importer.dryRun = dryRun
            return try await importer.run(directory: directory)
        }
        print(report.description)
    }
}
