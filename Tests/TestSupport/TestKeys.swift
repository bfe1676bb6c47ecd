import ChatRuntime
import Foundation
import Model

/// The names of the keys in the layout the test run's processes use: what `REDIS_URL` and
/// `REDIS_PARTITIONS` of `make test`'s phase give, resolved as the processes resolve them
/// (plain on one Redis unless `REDIS_PARTITIONS` says otherwise, 12 partitions on a cluster).
public let testKeys: RedisKeys = {
    let environment = ProcessInfo.processInfo.environment
    do {
        return try CommonOptions.parse([]).resolve(environment: environment).keys
    } catch {
        fatalError("REDIS_URL / REDIS_PARTITIONS of the test run: \(error)")
    }
}()
