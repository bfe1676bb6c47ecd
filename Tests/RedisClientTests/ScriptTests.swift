import Foundation
import LuaScripts
import NIOPosix
import RedisClient
import TestSupport
import Testing

@Suite("Lua scripts from lua/")
struct ScriptTests {
    /// The repository's lua/ folder, found from this source file, not the working directory.
    static let luaFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("lua")

    @Test("what runs is the repository's lua/ files with their includes, whatever the working directory", .timeLimit(.minutes(1)))
    func embeddedScriptsAreTheRepositoryFiles() async throws {
        let previous = FileManager.default.currentDirectoryPath
        #expect(FileManager.default.changeCurrentDirectoryPath("/"))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }

        let files = try FileManager.default.contentsOfDirectory(atPath: Self.luaFolder.path)
            .filter { $0.hasSuffix(".lua") }.sorted()
        #expect(!files.isEmpty)
        #expect(LuaScripts.all.map(\.name) == files.map { String($0.dropLast(4)) })

        let redis = try sharedClient()
        defer { Task { await redis.shutdown() } }
        let scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        try await scripts.preload()
        for file in files {
            let text = try String(contentsOf: Self.luaFolder.appendingPathComponent(file), encoding: .utf8)
            var included = Set<String>()
            let bytes = Array(try Self.expandingIncludes(text, included: &included).utf8)
            let script = try #require(scripts.script(named: String(file.dropLast(4))))
            #expect(script.source == bytes, "\(file) differs from the embedded copy")
            #expect(!String(decoding: script.source, as: UTF8.self).contains("--@include"))
            // Redis' own SHA-1 of the assembled bytes is the SHA the registry calls.
            let redisSHA = try await redis.send("EVAL", "return redis.sha1hex(ARGV[1])", 0, bytes).string
            #expect(script.sha == redisSHA)
            #expect(try await redis.send("SCRIPT", "EXISTS", script.sha) == .array([.integer(1)]))
        }
    }

    /// The assembly the build does, written again from its description: each
    /// `--@include NAME` line becomes lua/lib/NAME.lua (expanded the same way), once per script.
    static func expandingIncludes(_ text: String, included: inout Set<String>) throws -> String {
        var lines: [String] = []
        for line in text.components(separatedBy: "\n") {
            guard line.hasPrefix("--@include ") else {
                lines.append(line)
                continue
            }
            let name = String(line.dropFirst("--@include ".count)).trimmingCharacters(in: .whitespaces)
            guard included.insert(name).inserted else { continue }
            let helper = try String(
                contentsOf: luaFolder.appendingPathComponent("lib").appendingPathComponent("\(name).lua"), encoding: .utf8
            )
            var expanded = try expandingIncludes(helper, included: &included)
            if expanded.hasSuffix("\n") { expanded.removeLast() }
            lines.append(expanded)
        }
        return lines.joined(separator: "\n")
    }

    @Test("NOSCRIPT after SCRIPT FLUSH is handled transparently", .timeLimit(.minutes(1)))
    func noscriptAfterFlush() async throws {
        // Its own server: SCRIPT FLUSH would pull the scripts from under other tests.
        let server = try RedisServerProcess()
        let redis = try client(of: server, timeout: .seconds(2))
        defer { Task { await redis.shutdown() } }
        let source = Array("return {KEYS[1], ARGV[1], 'flush-test-\(UUID().uuidString)'}".utf8)
        let scripts = RedisScripts(client: redis, scripts: [RedisScript(name: "echo", source: source)])
        let sha = try #require(scripts.script(named: "echo")?.sha)

        let first = try await scripts.run("echo", keys: ["k"], arguments: ["a"])
        #expect(first.array?.prefix(2) == [.bulk(Array("k".utf8)), .bulk(Array("a".utf8))])
        #expect(try await redis.send("SCRIPT", "FLUSH") == .status("OK"))
        #expect(try await redis.send("SCRIPT", "EXISTS", sha) == .array([.integer(0)]))

        let second = try await scripts.run("echo", keys: ["k2"], arguments: ["b"])
        #expect(second.array?.prefix(2) == [.bulk(Array("k2".utf8)), .bulk(Array("b".utf8))])
        #expect(try await redis.send("SCRIPT", "EXISTS", sha) == .array([.integer(1)]))
        await #expect(throws: RedisError.unknownScript("nope")) { try await scripts.run("nope") }
    }

    /// A typed call of an echo script: its key and argument back, read from the flat reply.
    struct Echo: RedisScriptCall {
        static let scriptName = "echo"
        let key: String
        let argument: String
        var keyCount: Int { 1 }

        func encode(into arguments: inout RedisCommandArguments) {
            arguments.append(key)
            arguments.append(argument)
        }

        static func decode(_ reply: RedisFlatReply) throws(RedisError) -> [String] {
            try reply.throwingOnError()
            return reply.elements(of: reply.root).prefix(2).compactMap { reply.string(at: $0) }
        }
    }

    @Test("a typed call survives NOSCRIPT, awaited and on an event loop", .timeLimit(.minutes(1)))
    func typedCallAfterFlush() async throws {
        let server = try RedisServerProcess()
        let redis = try client(of: server, timeout: .seconds(2))
        defer { Task { await redis.shutdown() } }
        let source = Array("return {KEYS[1], ARGV[1], 'typed-flush-test-\(UUID().uuidString)'}".utf8)
        let scripts = RedisScripts(client: redis, scripts: [RedisScript(name: "echo", source: source)])

        #expect(try await scripts.run(Echo(key: "k", argument: "a")) == ["k", "a"])
        #expect(try await redis.send("SCRIPT", "FLUSH") == .status("OK"))
        #expect(try await scripts.run(Echo(key: "k2", argument: "b")) == ["k2", "b"])
        #expect(try await redis.send("SCRIPT", "FLUSH") == .status("OK"))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        #expect(try await scripts.run(Echo(key: "k3", argument: "c"), on: loop).get() == ["k3", "c"])
        #expect(try await scripts.run(Echo(key: "k4", argument: "d"), on: loop).get() == ["k4", "d"])
    }

    @Test("a script's error reply comes back as .error", .timeLimit(.minutes(1)))
    func scriptErrors() async throws {
        let redis = try sharedClient()
        defer { Task { await redis.shutdown() } }
        let scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        let reply = try await scripts.run("node_heartbeat", keys: [uniquePrefix() + "nodes"], arguments: ["", "x"])
        #expect(reply.errorMessage?.contains("bad_arguments") == true)
    }
}
