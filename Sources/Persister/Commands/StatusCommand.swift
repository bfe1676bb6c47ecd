import ArgumentParser
import ChatRuntime
import Foundation
import Logging
import Model
import RedisClient

/// `persister status`: per stream (per shard on a tagged layout) and consumer group, how
/// far the readers are.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each stream's length and each consumer group's pending entries, lag and oldest pending age, and the dead letters."
    )

    @OptionGroup var common: CommonOptions

    @Flag(name: .customLong("json"), help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let settings: CommonSettings
        do {
            settings = try common.resolve(environment: processEnvironment())
        } catch {
            Self.exit(configurationError: error)
        }
        Bootstrap.logging(level: settings.logLevel)
        let redis = RedisClient(configuration: settings.redis, logger: Logger(label: "persister.redis"))
        let report: StatusReport
        do {
            report = try await StatusReport.read(redis: redis, keys: settings.keys)
        } catch {
            await redis.shutdown()
            writeStandardError("persister status: Redis at \(settings.redis.endpoint): \(error)\n")
            throw ExitCode.failure
        }
        await redis.shutdown()
        print(json ? report.json : report.text, terminator: "")
    }
}

/// What `persister status` prints.
struct StatusReport: Sendable, Codable {
    let streams: [StreamStatus]
    let deadLetterStream: String
    let deadLetters: Int

    /// Every shard of the streams, partition by partition (the three streams when plain).
    static func read(redis: RedisClient, keys: RedisKeys) async throws -> StatusReport {
        let now = try await StreamStatus.now(redis: redis)
        var streams: [StreamStatus] = []
        for stream in keys.allStreamShards.flatMap(\.all) {
            streams.append(try await StreamStatus.read(stream, redis: redis, nowMilliseconds: now))
        }
        let deadLetters = try await redis.send("XLEN", StreamConsumer.deadLetterStream).throwingOnError().integer ?? 0
        return StatusReport(streams: streams, deadLetterStream: StreamConsumer.deadLetterStream, deadLetters: Int(deadLetters))
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    var text: String {
        var lines: [String] = []
        for stream in streams {
            lines.append("\(stream.stream): \(stream.length) entries (first \(stream.firstEntryID ?? "-"), last \(stream.lastEntryID ?? "-"))")
            if stream.groups.isEmpty { lines.append("  no consumer group") }
            for group in stream.groups {
                let age = group.lagSeconds > 0 ? String(format: "%.3f s", group.lagSeconds) : "0 s"
                let oldestPendingAge = group.oldestPendingID.flatMap(StreamEntry.milliseconds(ofID:)).map { _ in age } ?? "-"
                lines.append(
                    "  group \(group.name): \(group.consumers) consumers, pending \(group.pending), "
                        + "not delivered \(group.lag.map(String.init) ?? "unknown"), lag \(age), "
                        + "oldest pending \(group.oldestPendingID ?? "-") (age \(oldestPendingAge)), last delivered \(group.lastDeliveredID)"
                )
            }
        }
        lines.append("dead letters (\(deadLetterStream)): \(deadLetters)")
        return lines.joined(separator: "\n") + "\n"
    }
}
