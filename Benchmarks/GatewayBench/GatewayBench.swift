import ArgumentParser

/// Load generator for the WebSocket gateway (scripts/bench-gateway.sh): `connect` opens
/// many idle WebSocket connections to one server and reports how fast they were accepted;
/// `register` creates the accounts whose tokens `connect` uses.
@main
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-bench",
        abstract: "Idle WebSocket connections against the bridge or a baseline (scripts/bench-gateway.sh).",
        subcommands: [ConnectCommand.self, RegisterCommand.self],
        defaultSubcommand: ConnectCommand.self
    )
}
