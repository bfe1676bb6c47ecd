import NIOCore

/// A named Lua script: its exact bytes and the SHA-1 that Redis knows it by.
public struct RedisScript: Sendable, Hashable {
    public let name: String
    public let source: [UInt8]
    public let sha: String

    public init(name: String, source: [UInt8]) {
        self.name = name
        self.source = source
        self.sha = SHA1.hexDigest(source)
    }
}

/// One call of a Lua script as a value, as valkey-swift declares a command: its keys and
/// arguments, written straight into the command, and its reply, read from the flat
/// reply tape into a type of its own.
public protocol RedisScriptCall: Sendable {
    associatedtype Reply: Sendable
    /// The script's name (`lua/{name}.lua`).
    static var scriptName: String { get }
    /// How many of the values `encode` writes are keys (they come first).
    var keyCount: Int { get }
    /// Writes the keys, then the arguments.
    func encode(into arguments: inout RedisCommandArguments)
    /// Reads the script's reply; a reply of no known form throws.
    static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply
}

extension RedisScriptCall {
    /// The call as `EVALSHA sha …` (or `EVAL source …`): for a caller that pipelines
    /// calls itself (``RedisScripts/run(_:isolation:)`` also handles `NOSCRIPT`).
    public func command(_ verb: String, _ script: some RedisArgument) -> RedisCommand {
        var command = RedisCommandArguments(verb)
        script.append(to: &command)
        command.append(keyCount)
        encode(into: &command)
        return RedisCommand(arguments: command)
    }
}

/// The scripts a program runs, by name. Calls go out as `EVALSHA`; when Redis answers
/// `NOSCRIPT` (restarted, `SCRIPT FLUSH`, failover) the call is repeated once as `EVAL`
/// with the source, which also puts the script back into Redis' cache.
public struct RedisScripts: Sendable {
    public let client: RedisClient
    private let scripts: [String: RedisScript]

    public init(client: RedisClient, scripts: [RedisScript]) {
        self.client = client
        self.scripts = Dictionary(scripts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var names: [String] { scripts.keys.sorted() }

    public func script(named name: String) -> RedisScript? { scripts[name] }

    /// `SCRIPT LOAD`s every script, so the first calls do not pay for a `NOSCRIPT`.
    /// Fails if Redis names a script differently from us (the bytes would differ).
    public func preload() async throws(RedisError) {
        let ordered = scripts.values.sorted { $0.name < $1.name }
        let replies = try await client.pipeline(ordered.map { RedisCommand("SCRIPT", ["LOAD", $0.source]) })
        for (script, reply) in zip(ordered, replies) {
            try reply.throwingOnError()
            guard reply.string == script.sha else {
                throw .server("script \(script.name): Redis computed SHA \(reply.string ?? "?"), expected \(script.sha)")
            }
        }
    }

    /// Runs a script with `KEYS` and `ARGV`. Error replies from the script come back as
    /// `.error` replies (scripts return short error codes that the caller maps).
    public func run(
        _ name: String, keys: [any RedisArgument] = [], arguments: [any RedisArgument] = []
    ) async throws(RedisError) -> RedisReply {
        guard let script = scripts[name] else { throw .unknownScript(name) }
        let reply = try await client.send(command("EVALSHA", script.sha, keys: keys, arguments: arguments))
        guard case .error(let message) = reply, message.hasPrefix("NOSCRIPT") else { return reply }
        client.noteScriptReload()
        return try await client.send(command("EVAL", script.source, keys: keys, arguments: arguments))
    }

    /// The same as `run(_:keys:arguments:)` for code on an event loop (channel handlers):
    /// no task, no continuation; the reply completes on `eventLoop`.
    public func run(
        _ name: String, keys: [any RedisArgument] = [], arguments: [any RedisArgument] = [], on eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisReply> {
        guard let script = scripts[name] else { return eventLoop.makeFailedFuture(RedisError.unknownScript(name)) }
        let client = client
        return client.pipeline([command("EVALSHA", script.sha, keys: keys, arguments: arguments)], on: eventLoop)
            .flatMap { replies in
                guard case .error(let message) = replies[0], message.hasPrefix("NOSCRIPT") else {
                    return eventLoop.makeSucceededFuture(replies[0])
                }
                client.noteScriptReload()
                return client.pipeline([command("EVAL", script.source, keys: keys, arguments: arguments)], on: eventLoop)
                    .map { $0[0] }
            }
    }

    /// Runs a script call and reads its reply (an error reply the call does not know
    /// throws `.server`).
    public func run<Call: RedisScriptCall>(
        _ call: Call, isolation: isolated (any Actor)? = #isolation
    ) async throws(RedisError) -> Call.Reply {
        guard let script = scripts[Call.scriptName] else { throw .unknownScript(Call.scriptName) }
        let reply = try await client.sendFlat(call.command("EVALSHA", script.sha), isolation: isolation)
        guard Self.isNoScript(reply) else { return try Call.decode(reply) }
        client.noteScriptReload()
        return try Call.decode(try await client.sendFlat(call.command("EVAL", script.source), isolation: isolation))
    }

    /// The same as `run(_:)` for code on an event loop (channel handlers): no task, no
    /// continuation; the reply completes on `eventLoop`.
    public func run<Call: RedisScriptCall>(_ call: Call, on eventLoop: any EventLoop) -> EventLoopFuture<Call.Reply> {
        guard let script = scripts[Call.scriptName] else {
            return eventLoop.makeFailedFuture(RedisError.unknownScript(Call.scriptName))
        }
        let client = client
        return client.sendFlat(call.command("EVALSHA", script.sha), on: eventLoop)
            .flatMap { reply in
                guard Self.isNoScript(reply) else { return eventLoop.makeSucceededFuture(reply) }
                client.noteScriptReload()
                return client.sendFlat(call.command("EVAL", script.source), on: eventLoop)
            }
            .flatMapThrowing { reply in try Call.decode(reply) }
    }

    private static func isNoScript(_ reply: RedisFlatReply) -> Bool {
        guard reply.kind(at: reply.root) == .error, let range = reply.byteRange(at: reply.root) else { return false }
        return reply.bytes[range].starts(with: "NOSCRIPT".utf8)
    }

    private func command(
        _ verb: String, _ body: some RedisArgument, keys: [any RedisArgument], arguments: [any RedisArgument]
    ) -> RedisCommand {
        var command = RedisCommandArguments(verb)
        body.append(to: &command)
        command.append(keys.count)
        for key in keys { key.append(to: &command) }
        for argument in arguments { argument.append(to: &command) }
        return RedisCommand(arguments: command)
    }
}

/// Short: services holding the scripts are described at start (swift-service-lifecycle
/// logs its services), and the reflected description of every script's source took a
/// debug build's bridge a second per service holding them.
extension RedisScripts: CustomStringConvertible {
    public var description: String { "RedisScripts(\(names.count) scripts)" }
}
