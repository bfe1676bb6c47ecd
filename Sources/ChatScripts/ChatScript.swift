import RedisClient

/// A script call of this project: a `RedisScriptCall` that also states its layout, the
/// names its script's header gives to its keys and arguments.
public protocol ChatScript: RedisScriptCall {
    /// One layout, or one per operation.
    static var layouts: [ScriptLayout] { get }
}
