/// Names of the Redis keys and streams shared by the bridge, the persister and the
/// people who operate them (DATA.md). The *compat* names are the old system's.
public enum RedisKeys {
    /// The account's newest token (*compat*).
    public static func userToken(_ userID: Int) -> String { "chat_user_\(userID)" }
    /// `{nodeId}:{connId}` of the user's delivery target (*compat*).
    public static func online(_ userID: Int) -> String { "online_\(userID)" }
    /// Offline queue of JSON message objects, oldest first (*compat*).
    public static func offlineQueue(_ userID: Int) -> String { "chat_getmessage_\(userID)" }
    /// Deliveries for connections held by one bridge process.
    public static func nodeChannel(_ nodeID: String) -> String { "chat:node:\(nodeID)" }
    /// Live processes by last heartbeat.
    public static let nodes = "chat:nodes"
}

/// The two streams analytics jobs read (a versioned public contract).
public enum StreamName {
    public static let messages = "chat:stream:messages"
    public static let entities = "chat:stream:entities"
    /// Consumer group of the persister.
    public static let persisterGroup = "persister"
}
