/// A message received on a subscription. `pattern` is set for pattern subscriptions.
public struct RedisPubSubMessage: Sendable, Hashable {
    public let channel: String
    public let pattern: String?
    public let payload: [UInt8]

    public init(channel: String, pattern: String?, payload: [UInt8]) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }

    public var text: String { String(decoding: payload, as: UTF8.self) }
}

/// The messages of one `subscribe` or `psubscribe` call, as an async sequence. It ends
/// when `unsubscribe()` is called, the subscriber shuts down, or iteration is cancelled.
public struct RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisPubSubMessage

    let stream: AsyncStream<RedisPubSubMessage>
    let continuation: AsyncStream<RedisPubSubMessage>.Continuation

    public func makeAsyncIterator() -> AsyncStream<RedisPubSubMessage>.Iterator {
        stream.makeAsyncIterator()
    }

    /// Ends the sequence; Redis is told to unsubscribe once no other subscription of
    /// this subscriber needs the channel.
    public func unsubscribe() {
        continuation.finish()
    }
}
