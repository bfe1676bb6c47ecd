import Model

/// What the dashboard shows (docs/console.md, *Dashboard*).
struct Dashboard: Sendable {
    struct Node: Sendable {
        let id: String
        let sockets: Int
        let users: Int
        /// Seconds since its last heartbeat.
        let age: Int
    }

    struct Stream: Sendable {
        let name: String
        let length: Int
        /// Entries the persister has not read yet (`XINFO GROUPS` lag), nil when Redis cannot tell.
        let lag: Int?
        /// Entries read and not yet acknowledged.
        let pending: Int
        let lagText: String
    }

    /// One minute's count, oldest first.
    struct Minute: Sendable {
        let minute: Int64
        let count: Int
    }

    let nodes: [Node]
    let streams: [Stream]
    let minutes: [Minute]
    let deadLetters: Int

    var onlineUsers: Int { nodes.reduce(0) { $0 + $1.users } }
    var socketsTotal: Int { nodes.reduce(0) { $0 + $1.sockets } }
    var messagesLastHour: Int { minutes.reduce(0) { $0 + $1.count } }

    var json: JSONValue {
        [
            "online_users": .integer(Int64(onlineUsers)), "sockets_total": .integer(Int64(socketsTotal)),
            "messages_last_hour": .integer(Int64(messagesLastHour)), "deadletters": .integer(Int64(deadLetters)),
            "nodes": .array(nodes.map {
                ["id": .string($0.id), "sockets": .integer(Int64($0.sockets)), "users": .integer(Int64($0.users)), "age_seconds": .integer(Int64($0.age))]
            }),
            "streams": .array(streams.map {
                ["name": .string($0.name), "length": .integer(Int64($0.length)), "lag": $0.lag.map { .integer(Int64($0)) } ?? .null, "pending": .integer(Int64($0.pending))]
            }),
            "messages_per_minute": .array(minutes.map { ["minute": .integer($0.minute), "count": .integer(Int64($0.count))] }),
        ]
    }
}
