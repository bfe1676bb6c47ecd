import ChatRuntime
import Foundation
import Model

/// The names of the keys in the layout the test run's processes use: what `REDIS_URL` and
/// `REDIS_PARTITIONS` of `make test`'s phase give, resolved as the processes resolve them
/// (plain on one Redis unless `REDIS_PARTITIONS` says otherwise, 12 partitions on a cluster).
public let testKeys: RedisKeys = {
    let environment = ProcessInfo.processInfo.environment
    do {
        // Parsed, not `init()`: an option wrapper never parsed cannot be read.
        return try CommonOptions.parse([]).resolve(environment: environment).keys
    } catch {
        fatalError("REDIS_URL / REDIS_PARTITIONS of the test run: \(error)")
    }
}()

/// The environment of a process a test starts, with `REDIS_PARTITIONS` said out loud when
/// it names none and its Redis is a single one: the run's layout (`testKeys`), so that on
/// the cluster phase a test's own redis-server and the processes on it name keys as the
/// test does (a single Redis' default is plain). A cluster's own default stands.
public func withTestLayout(_ environment: [String: String]) -> [String: String] {
    guard environment["REDIS_PARTITIONS"] == nil, !(environment["REDIS_URL"] ?? "").hasPrefix("redis-cluster://") else {
        return environment
    }
    var environment = environment
    environment["REDIS_PARTITIONS"] = KeyLayoutCheck.recordedValue(of: testKeys.layout)
    return environment
}
