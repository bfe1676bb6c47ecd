import ArgumentParser

/// `persister`: moves the chat's state from Redis streams into MariaDB.
@main
struct PersisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persister",
        abstract: "Drains the chat's Redis streams into MariaDB.",
        subcommands: [RunCommand.self, MigrateCommand.self, StatusCommand.self, HydrateCommand.self, VerifyCommand.self, ImportAskAnswersCommand.self]
    )
}
