import Hummingbird
import Logging

/// The console's HTTP server, on its own listener (`--host`, `--port`), never the API's.
enum ConsoleApplication {
    static func make(settings: ConsoleSettings, dependencies: ConsoleDependencies, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: ConsoleRoutes(dependencies: dependencies).router(),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "chat-console"),
            logger: logger
        )
    }
}
