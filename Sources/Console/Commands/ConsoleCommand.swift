import ArgumentParser

/// `console`: the operators' console (docs/console.md). `serve` runs the web console;
/// `admin` manages the operators' accounts from the command line.
@main
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The operators' console: a web page and a JSON API over Redis, on a listener of its own.",
        subcommands: [ServeCommand.self, AdminCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
