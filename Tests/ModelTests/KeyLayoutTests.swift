import Foundation
import Model
import Testing

/// The key layout: the plain layout's names are the documented ones, byte for byte (old
/// tools and operators know them); a partitioned layout's are the same with the
/// partition's tag after them, the partition being the id modulo the count.
@Suite("Key layout")
struct KeyLayoutTests {
    /// A name as a function of a user, a peer and a group, and its documented pattern in the
    /// *State in Redis* table of docs/architecture.md.
    struct Documented: Sendable, CustomStringConvertible {
        let pattern: String
        let name: @Sendable (RedisKeys, _ user: Int, _ peer: Int, _ group: Int) -> String
        /// Whose partition the key belongs to: the user's or the group's.
        let ofGroup: Bool
        var description: String { pattern }

        init(_ pattern: String, ofGroup: Bool = false, _ name: @escaping @Sendable (RedisKeys, Int, Int, Int) -> String) {
            self.pattern = pattern
            self.ofGroup = ofGroup
            self.name = name
        }

        /// The pattern with the placeholders filled in.
        func expected(user: Int, peer: Int, group: Int) -> String {
            var text = pattern
            for placeholder in ["{id}", "{uid}", "{from}", "{owner}", "{blocker}"] {
                text = text.replacingOccurrences(of: placeholder, with: String(user))
            }
            return text.replacingOccurrences(of: "{peer}", with: String(peer))
                .replacingOccurrences(of: "{gid}", with: String(group))
                .replacingOccurrences(of: "{clientId}", with: "c-1")
                .replacingOccurrences(of: "{yyyyMMdd}", with: "20261207")
        }
    }

    static let documented: [Documented] = [
        Documented("chat_user_{id}") { keys, user, _, _ in keys.userToken(user) },
        Documented("chat:user:{id}") { keys, user, _, _ in keys.user(user) },
        Documented("chat:userinfo:{id}") { keys, user, _, _ in keys.userInfo(user) },
        Documented("user:modify:{id}") { keys, user, _, _ in keys.userModified(user) },
        Documented("online_{id}") { keys, user, _, _ in keys.online(user) },
        Documented("chat:online:token:{id}") { keys, user, _, _ in keys.onlineToken(user) },
        Documented("chat:sockets:{id}") { keys, user, _, _ in keys.sockets(user) },
        Documented("chat_getmessage_{id}") { keys, user, _, _ in keys.offlineQueue(user) },
        Documented("chatlog:chatlog_{owner}_single_{peer}") { keys, user, peer, _ in keys.singleHistory(owner: user, peer: peer) },
        Documented("chat:quota:{from}") { keys, user, _, _ in keys.quota(user) },
        Documented("chat:sent:{uid}:{clientId}") { keys, user, _, _ in keys.sentByClientID(user, "c-1") },
        Documented("chat:rate:{uid}") { keys, user, _, _ in keys.sendRate(user) },
        Documented("chat:uploads:{uid}:{yyyyMMdd}") { keys, user, _, _ in keys.uploadsOfDay(user, day: "20261207") },
        Documented("chat:friends:{uid}") { keys, user, _, _ in keys.friends(user) },
        Documented("chat:blocks:{uid}") { keys, user, _, _ in keys.blocks(user) },
        Documented("chat:apply:to:{uid}") { keys, user, _, _ in keys.friendRequestsTo(user) },
        Documented("chat:apply:pending:{uid}") { keys, user, _, _ in keys.pendingFriendRequestsTo(user) },
        Documented("chat:user:{uid}:groups") { keys, user, _, _ in keys.groupsOfUser(user) },
        Documented("chat:user:{uid}:complaints") { keys, user, _, _ in keys.complaintsOfUser(user) },
        Documented("chat:user:{uid}:askanswers") { keys, user, _, _ in keys.askAnswersOfUser(user) },
        Documented("chat:group:{gid}", ofGroup: true) { keys, _, _, group in keys.group(group) },
        Documented("chat:group:{gid}:members", ofGroup: true) { keys, _, _, group in keys.groupMembers(group) },
        Documented("chat:group:{gid}:members:v", ofGroup: true) { keys, _, _, group in keys.groupMembersVersion(group) },
        Documented("chatlog:group_{gid}", ofGroup: true) { keys, _, _, group in keys.groupHistory(group) },
    ]

    /// The backquoted names of the *State in Redis* table.
    static let documentedNames: Set<String> = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = (try? String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)) ?? ""
        var names: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let firstCell = line.dropFirst(2).prefix { $0 != "|" }
            for (index, part) in firstCell.split(separator: "`", omittingEmptySubsequences: false).enumerated() where index % 2 == 1 {
                names.insert(String(part))
            }
        }
        return names
    }()

    @Test("plain: every name is docs/architecture.md's, byte for byte, and the static name's", arguments: documented)
    func plainNamesAreDocumented(_ key: Documented) {
        #expect(Self.documentedNames.contains(key.pattern), "`\(key.pattern)` is not in the State in Redis table")
        for (user, peer, group) in [(42, 7, 9), (1, 2_000_000_001, 1), (123_456_789, 3, 77)] {
            let name = key.name(.plain, user, peer, group)
            #expect(name == key.expected(user: user, peer: peer, group: group))
            #expect(Array(name.utf8) == Array(key.expected(user: user, peer: peer, group: group).utf8))
            #expect(!name.contains("{") && !name.contains("}"), "a plain name carries no tag: \(name)")
        }
        #expect(RedisKeys.plain.user(42) == RedisKeys.user(42))
        #expect(RedisKeys.plain.singleHistory(owner: 3, peer: 4) == RedisKeys.singleHistory(owner: 3, peer: 4))
    }

    @Test("plain: one partition, untagged; the per-partition copies are the plain global names")
    func plainLayout() {
        let keys = RedisKeys.plain
        #expect(keys.layout == .plain && !keys.layout.isTagged && keys.layout.partitions == 1)
        #expect(keys.layout.suffix(ofUser: 42) == "" && keys.layout.suffix(ofGroup: 9) == "")
        #expect(keys.offlineBodies(partition: 0) == "chat:offline:bodies" && keys.offlineBytes(partition: 0) == "chat:offline:bytes")
        #expect(keys.nodes(partition: 0) == "chat:nodes" && keys.nodeDeliveries(partition: 0) == "chat:nodes:deliveries")
        #expect(keys.nodeStream("n-1", partition: 0) == "chat:node:n-1")
        #expect(keys.stream(StreamName.messages, partition: 0) == "chat:stream:messages")
        #expect(keys.shards(of: StreamName.entities) == ["chat:stream:entities"])
        for name in ["chat:offline:bodies", "chat:offline:bytes", "chat:nodes", "chat:nodes:deliveries", "chat:node:{nodeId}"] {
            #expect(Self.documentedNames.contains(name), "`\(name)` is not in the State in Redis table")
        }
    }

    @Test("tagged: the plain name and the tag of the id's partition (id mod count), the user's or the group's",
          arguments: documented)
    func taggedNames(_ key: Documented) {
        let layout = KeyLayout(partitionTags: ["p0", "p1", "p2"])
        let keys = RedisKeys(layout: layout)
        for (user, peer, group) in [(42, 7, 9), (1, 2, 5), (3, 4, 4), (2_000_000_002, 1, 100)] {
            let partition = key.ofGroup ? group % 3 : user % 3
            #expect(key.name(keys, user, peer, group) == key.name(.plain, user, peer, group) + "{p\(partition)}")
        }
    }

    @Test("partitions: id mod count for users and groups, never negative; suffixes in order")
    func partitions() {
        let layout = KeyLayout(partitionTags: (0..<12).map { "t\($0)" })
        #expect(layout.isTagged && layout.partitions == 12)
        #expect(layout.suffixes == (0..<12).map { "{t\($0)}" })
        for id in [0, 1, 11, 12, 13, 24, 25, 1_000_003, Int(Int32.max)] {
            #expect(layout.partition(ofUser: id) == id % 12)
            #expect(layout.partition(ofGroup: id) == id % 12)
            #expect(layout.suffix(ofUser: id) == "{t\(id % 12)}")
        }
        #expect(layout.partition(ofUser: -1) == 11 && layout.partition(ofGroup: -13) == 11)
        // Users 12 and 24 share a partition: a send between them stays one script run.
        #expect(layout.partition(ofUser: 12) == layout.partition(ofUser: 24))
        let keys = RedisKeys(layout: layout)
        #expect(keys.singleHistory(owner: 12, peer: 13) == "chatlog:chatlog_12_single_13{t0}")
        #expect(keys.singleHistory(owner: 13, peer: 12) == "chatlog:chatlog_13_single_12{t1}")
        #expect(keys.shards(of: StreamName.messages) == (0..<12).map { "chat:stream:messages{t\($0)}" })
        #expect(keys.stream(StreamName.messages, partition: 5) == "chat:stream:messages{t5}")
        #expect(keys.nodeStream("n-1", partition: 7) == "chat:node:n-1{t7}")
        #expect(keys.offlineBodies(partition: 3) == "chat:offline:bodies{t3}")
    }

    /// The part of a key Redis Cluster hashes: between its first `{` and the first `}`
    /// after it when not empty, else the whole key.
    static func hashedPart(_ key: String) -> Substring {
        guard let open = key.firstIndex(of: "{"), let close = key[key.index(after: open)...].firstIndex(of: "}"),
              close > key.index(after: open)
        else { return key[...] }
        return key[key.index(after: open)..<close]
    }

    @Test("a client id with a brace: tagged, its own escaped name hashed on the user's tag; ordinary ids and plain names unchanged")
    func clientIDWithBraces() {
        let keys = RedisKeys(layout: KeyLayout(partitionTags: ["p0", "p1", "p2"]))
        #expect(keys.sentByClientID(7, "a{b}c") == "chat:sent:escaped:7:a%7Bb%7Dc{p1}")
        #expect(keys.sentByClientID(7, "}{%") == "chat:sent:escaped:7:%7D%7B%25{p1}")
        #expect(keys.sentByClientID(7, "c-1") == "chat:sent:7:c-1{p1}")
        // an ordinary id that reads like an escaped one keeps its own name: no two ids meet
        #expect(keys.sentByClientID(7, "a%7Bb%7Dc") == "chat:sent:7:a%7Bb%7Dc{p1}")
        #expect(keys.sentByClientID(7, "escaped:7:a%7Bb%7Dc") == "chat:sent:7:escaped:7:a%7Bb%7Dc{p1}")
        for clientID in ["a{b}c", "{", "}", "{}", "x{", "}y{z", "%{%}", "{p0}", "客户{端}"] {
            #expect(Self.hashedPart(keys.sentByClientID(7, clientID)) == "p1", "\(clientID)")
            #expect(Self.hashedPart(keys.sentByClientID(9, clientID)) == "p0", "\(clientID)")
        }
        // plain: the plain name whatever the id (one Redis hashes nothing)
        #expect(RedisKeys.plain.sentByClientID(7, "a{b}c") == "chat:sent:7:a{b}c")
        #expect(RedisKeys.plain.sentByClientID(7, "a{b}c") == RedisKeys.sentByClientID(7, "a{b}c"))
    }
}
