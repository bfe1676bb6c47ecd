import ArgumentParser
import ChatRuntime
import Logging

/// `persister verify`: compares MariaDB and Redis (counts per entity, a sample of rows
/// column by column) and says what differs; exit status 1 when something does.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare MariaDB and Redis: every entity's count, and a random sample of rows with every column the scripts store. Exit 1 when they differ, 2 when the check could not run."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var persister: PersisterOptions

    @Option(name: .customLong("sample"), help: "Rows compared column by column per entity; 0: counts only (env VERIFY_SAMPLE, default 1000).")
    var sample: String?

    @Option(name: .customLong("show"), help: "Differences listed; all are counted (env VERIFY_SHOW, default 20).")
    var show: String?

    static let sampleSetting = Setting("sample", env: "VERIFY_SAMPLE")
    static let showSetting = Setting("show", env: "VERIFY_SHOW")

    func run() async throws {
        let tool = OneShotSession.start("verify", common: common, persister: persister)
        let sampleSize: Int, listed: Int
        do {
            let environment = processEnvironment()
            sampleSize = try Self.sampleSetting.resolve(flag: sample, environment: environment, default: 1000) {
                Int($0).flatMap { (0...10_000_000).contains($0) ? $0 : nil }
            }
            listed = try Self.showSetting.resolve(flag: show, environment: environment, default: 20) {
                Int($0).flatMap { (0...100_000).contains($0) ? $0 : nil }
            }
        } catch {
            Self.exit(configurationError: error)
        }
        let report = try await tool.run("verify", failureStatus: 2) { session, redis in
            var verifier = Verifier(session: session, redis: redis, logger: tool.logger)
            verifier.keys = tool.settings.common.keys
            verifier.sampleSize = sampleSize
            verifier.listed = listed
            return try await verifier.run()
        }
        print(report.description)
        if !report.matches { throw ExitCode.failure }
    }
}
