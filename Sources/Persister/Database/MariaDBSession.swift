import ChatRuntime
import Logging
import MariaDB
import RedisClient

/// The persister's MariaDB connection, owned by an actor that runs on a dedicated thread.
///
/// `MariaDBConnection` blocks and is not `Sendable`; as isolated state of this actor it
/// is only used on ``DedicatedThreadExecutor``'s thread, one call at a time, while the
/// rest of the process awaits the result without blocking anything.
actor MariaDBSession {
    nonisolated let configuration: MariaDBConfiguration
    private let executor: DedicatedThreadExecutor
    private let logger: Logger
    private var connection: MariaDBConnection?
    /// Runs on every new connection before it is used (session settings).
    private let setup: @Sendable (MariaDBConnection) throws -> Void

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    init(
        configuration: MariaDBConfiguration, logger: Logger, threadName: String = "mariadb",
        setup: @escaping @Sendable (MariaDBConnection) throws -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.setup = setup
        self.executor = DedicatedThreadExecutor(name: threadName)
        var logger = logger
        logger[metadataKey: "mariadb"] = "\(configuration)"
        self.logger = logger
    }

    var isConnected: Bool { connection != nil }

    /// True unless the actor's custom executor were bypassed: its isolated code, and so
    /// every blocking call, runs on the dedicated thread.
    var runsOnDedicatedThread: Bool { executor.isCurrentThread }

    /// Connects, retrying with `backoff` while the server cannot be reached and logging
    /// every failure. Returns once connected; throws `CancellationError` only, when the
    /// task is cancelled (an attempt under way first runs to its connect timeout).
    func connect(retrying backoff: Backoff) async throws {
        var attempt = 0
        while connection == nil {
            try Task.checkCancellation()
            do {
                connection = try open()
                if attempt > 0 {
                    logger.notice("connected to MariaDB", metadata: ["attempts": "\(attempt + 1)"])
                }
            } catch {
                attempt += 1
                let delay = backoff.delay(afterAttempt: attempt)
                var metadata: Logger.Metadata = [
                    "error": "\(error)",
                    "attempt": "\(attempt)",
                    "retry_in_ms": "\(delay.milliseconds)",
                ]
                if (error as? MariaDBError)?.code == .unknownDatabase {
                    metadata["hint"] = "create the database and its tables with `persister migrate`"
                }
                logger.warning("cannot connect to MariaDB; retrying", metadata: metadata)
                try await Task.sleep(for: delay)
            }
        }
    }

    /// Runs `body` with the connection, connecting first (once, without retrying) if
    /// there is none. An error saying the connection is lost drops it, so that the next
    /// call starts with a fresh one.
    func withConnection<Result: Sendable>(_ body: (MariaDBConnection) throws -> Result) throws -> Result {
        let connection = try self.connection ?? open()
        self.connection = connection
        do {
            return try body(connection)
        } catch let error as MariaDBError where error.isConnectionLost {
            logger.warning("lost the MariaDB connection", metadata: ["error": "\(error)"])
            self.connection = nil
            throw error
        }
    }

    private func open() throws -> MariaDBConnection {
        let connection = try MariaDBConnection(configuration: configuration, logger: logger)
        try setup(connection)
        return connection
    }

    /// Closes the connection (a later call opens a new one).
    func disconnect() {
        connection = nil
    }
}
