import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import RedisClient

/// The server's child channel: HTTP/1.1 for the API, and `GET /ws` upgraded to a
/// WebSocket whose pipeline is this project's own small handlers on top of NIO's frame
/// codec — so that no layer ever sends a close frame the deployed client would take for a
/// logout (docs/api.md, *Close semantics*).
///
/// WebSocket pipeline, inbound: frame decoder (single frames over the limit: 1009) →
/// drop (back-pressure: read, then a FIN) → liveness (pings, dead peers, shutdown: TCP drop) → fragment aggregator → control
/// frames → text (UTF-8: 1007, fragmented messages over the limit: 1009) → client frames
/// (pings answered) → sends (run in order, acknowledged). HTTP: `HTTPTimeoutHandler`
/// (header-read and idle timeouts) after NIO's codec.
package struct GatewayChannel: ServerChildChannel, HTTPChannelHandler {
    package struct Configuration: Sendable {
        var path = "/ws"
        package var maxFrameBytes = 64 * 1024
        package var pingInterval: TimeAmount = .seconds(30)
        /// Fragments one message may arrive in.
        var maxFragments = 256
        /// `SO_SNDBUF` of every accepted socket (the kernel doubles it); 0: the kernel's
        /// own, self-tuning buffer. Bounds what a stalled client costs the kernel.
        package var sendBufferBytes = 256 * 1024
        /// A request's head must arrive whole within this (slowloris).
        package var httpHeaderTimeout: TimeAmount = .seconds(10)
        /// An HTTP connection silent this long between requests, or within a request's
        /// body, is closed.
        package var httpIdleTimeout: TimeAmount = .seconds(60)

        package init() {}
    }

    enum Upgrade: Sendable {
        case webSocket(any Channel, HTTPRequestHead)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade asked for on another path: NIO has consumed that request, so it
        /// cannot reach the router; it is answered 404 here and the connection closed.
        case upgradeElsewhere(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    package struct Value: ServerChildChannelValue {
        let upgrade: EventLoopFuture<Upgrade>
        package let channel: any Channel
    }

    package let responder: HTTPChannelHandler.Responder
    let configuration: Configuration
    let gateway: Gateway

    package init(responder: @escaping HTTPChannelHandler.Responder, configuration: Configuration, gateway: Gateway) {
        self.configuration = configuration
        self.gateway = gateway
        self.responder = Self.redirectingLateUpgrades(to: configuration.path, responder)
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let configuration = self.configuration
            let sender = self.gateway.sender
            let upgradeAsked = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            if configuration.sendBufferBytes > 0 {
                try channel.syncOptions?.setOption(ChannelOptions.socketOption(.so_sndbuf), value: SocketOptionValue(configuration.sendBufferBytes))
            }
            let timeouts = HTTPTimeoutHandler(
                headerTimeout: configuration.httpHeaderTimeout, idleTimeout: configuration.httpIdleTimeout
            )
            let timeoutsBound = NIOLoopBound(timeouts, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
                maxFrameSize: configuration.maxFrameBytes,
                enableAutomaticErrorHandling: true,
                shouldUpgrade: { channel, head in
                    upgradeAsked.value = true
                    // Always accepted on the gateway path: refusals are frames (docs/api.md).
                    let wanted = URI(head.uri).path == configuration.path
                    // Its HTTP framing ends here: the frames that follow are no HTTP parts.
                    if wanted { channel.pipeline.syncOperations.removeHandler(timeoutsBound.value, promise: nil) }
                    return channel.eventLoop.makeSucceededFuture(wanted ? HTTPHeaders() : nil)
                },
                upgradePipelineHandler: { channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            WebSocketDropHandler(),
                            WebSocketLivenessHandler(interval: configuration.pingInterval),
                            NIOWebSocketFrameAggregator(
                                minNonFinalFragmentSize: 0,
                                maxAccumulatedFrameCount: configuration.maxFragments,
                                maxAccumulatedFrameSize: configuration.maxFrameBytes
                            ),
                            WebSocketControlHandler(),
                            WebSocketTextHandler(),
                            ClientFrameHandler(),
                            WebSocketSendHandler(sender: sender),
                        ])
                        return Upgrade.webSocket(channel, head)
                    }
                }
            )
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return upgradeAsked.value ? .upgradeElsewhere(http) : .http(http)
                    }
                }
            )
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrades)
            pipeline.enablePipelining = false  // NIOAsyncChannel serializes HTTP requests
            pipeline.enableErrorHandling = false  // Hummingbird answers errors
            pipeline.enableResponseHeaderValidation = false  // HTTPTypes already validated them
            let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            let upgradeHandler = try channel.pipeline.syncOperations.handler(type: NIOTypedHTTPServerUpgradeHandler<Upgrade>.self)
            try channel.pipeline.syncOperations.addHandler(timeouts, position: .before(upgradeHandler))
            return Value(upgrade: upgrade, channel: channel)
        }
    }

    /// On the connection's own loop from the start: the pipeline's choice (HTTP or
    /// WebSocket) resumes there, and so does everything after it — reading a request,
    /// awaiting Redis (a connection of the same loop), writing the answer — waking no other
    /// thread (docs/benchmarks.md, *HTTP requests* and *Gateway*).
    package func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            do {
                switch try await value.upgrade.get() {
                case .http(let http):
                    await handleHTTP(asyncChannel: http, logger: logger)
                case .webSocket(let channel, let head):
                    await gateway.serve(channel, request: head)
                case .upgradeElsewhere(let http):
                    try await http.executeThenClose { _, outbound in
                        try await outbound.write(contentsOf: [
                            .head(HTTPResponse(status: .notFound, headerFields: [.connection: "close", .contentLength: "0"])),
                            .end(nil),
                        ])
                    }
                }
            } catch {
                logger.debug("connection ended before its first request", metadata: ["error": "\(error)"])
            }
        }
    }

    /// NIO upgrades only a connection's first request. A client that asks for the gateway
    /// on a connection that already carried a request is sent to the same URL on a new one.
    private static func redirectingLateUpgrades(
        to path: String, _ responder: @escaping HTTPChannelHandler.Responder
    ) -> HTTPChannelHandler.Responder {
        { (request: Request, writer: consuming ResponseWriter, channel: any Channel) in
            guard request.headers[.upgrade]?.lowercased() == "websocket", request.uri.path == path else {
                return try await responder(request, writer, channel)
            }
            var location = request.uri.path
            if let query = request.uri.query { location += "?" + query }
            let response = HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location])
            try await writer.writeResponse(response)
            throw LateUpgrade()  // ends the connection after the response
        }
    }

    private struct LateUpgrade: Error {}
}
