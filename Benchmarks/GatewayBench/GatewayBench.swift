import ArgumentParser

/// Load generator for the WebSocket gateway: `connect` opens many idle WebSocket
/// connections to one server and reports how fast they were accepted, `register` creates
/// the accounts whose tokens `connect` uses (scripts/bench-gateway.sh); `chat` sends
/// single-chat messages between connected pairs end to end (scripts/bench-chat.sh);
/// `group` fans group messages out to members on two processes (scripts/bench-group.sh);
/// `listen` holds the receivers of an HTTP load `wrk` generates (scripts/bench-gateway.sh).
@main
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-bench",
        abstract: "WebSocket load against the bridge or a baseline (scripts/bench-gateway.sh, scripts/bench-chat.sh).",
        subcommands: [ConnectCommand.self, RegisterCommand.self, ChatCommand.self, GroupCommand.self, ListenCommand.self],
        defaultSubcommand: ConnectCommand.self
    )
}
