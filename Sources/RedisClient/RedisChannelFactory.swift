import NIOCore
import NIOPosix

/// Opens a TCP or unix-socket channel to Redis with the given handlers. The handshake
/// (AUTH, SELECT) is the caller's: it depends on what the connection is for.
enum RedisChannelFactory {
    static func connect(
        _ configuration: RedisConfiguration,
        on eventLoop: any EventLoop,
        handlers: @escaping @Sendable () -> [any ChannelHandler]
    ) -> EventLoopFuture<any Channel> {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(handlers())
                }
            }
        switch configuration.endpoint {
        case .tcp(let host, let port):
            return bootstrap
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port)
        case .unixSocket(let path):
            return bootstrap.connect(unixDomainSocketPath: path)
        }
    }

    /// AUTH and SELECT as the configuration asks, then a PING: a server that accepts
    /// TCP connections but does not answer (paused, overloaded) is not "connected".
    static func handshake(_ configuration: RedisConfiguration) -> [RedisCommand] {
        var commands: [RedisCommand] = []
        if let password = configuration.password {
            if let username = configuration.username {
                commands.append(RedisCommand("AUTH", username, password))
            } else {
                commands.append(RedisCommand("AUTH", password))
            }
        }
        if configuration.database != 0 {
            commands.append(RedisCommand("SELECT", configuration.database))
        }
        commands.append(RedisCommand("PING"))
        return commands
    }
}
