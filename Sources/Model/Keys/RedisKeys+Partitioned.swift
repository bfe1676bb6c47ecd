/// The names of the keys that belong to one partition (``KeyLayout``): the plain name
/// with the partition's tag after it, so that `keys.user(42)` is `chat:user:42` on one
/// Redis and `chat:user:42{p6}` on a cluster of 12 partitions.
extension RedisKeys {
    // A user's keys: the partition of the user.
    public func userToken(_ userID: Int) -> String { Self.userToken(userID) + layout.suffix(ofUser: userID) }
    public func online(_ userID: Int) -> String { Self.online(userID) + layout.suffix(ofUser: userID) }
    public func offlineQueue(_ userID: Int) -> String { Self.offlineQueue(userID) + layout.suffix(ofUser: userID) }
    public func onlineToken(_ userID: Int) -> String { Self.onlineToken(userID) + layout.suffix(ofUser: userID) }
    public func sockets(_ userID: Int) -> String { Self.sockets(userID) + layout.suffix(ofUser: userID) }
    public func user(_ userID: Int) -> String { Self.user(userID) + layout.suffix(ofUser: userID) }
    public func userInfo(_ userID: Int) -> String { Self.userInfo(userID) + layout.suffix(ofUser: userID) }
    public func userModified(_ userID: Int) -> String { Self.userModified(userID) + layout.suffix(ofUser: userID) }
    public func friends(_ userID: Int) -> String { Self.friends(userID) + layout.suffix(ofUser: userID) }
    public func friendRequestsTo(_ userID: Int) -> String { Self.friendRequestsTo(userID) + layout.suffix(ofUser: userID) }
    public func pendingFriendRequestsTo(_ userID: Int) -> String {
        Self.pendingFriendRequestsTo(userID) + layout.suffix(ofUser: userID)
    }
    public func blocks(_ blocker: Int) -> String { Self.blocks(blocker) + layout.suffix(ofUser: blocker) }
    public func quota(_ from: Int) -> String { Self.quota(from) + layout.suffix(ofUser: from) }
    /// The owner's view: the owner's partition.
    public func singleHistory(owner: Int, peer: Int) -> String {
        Self.singleHistory(owner: owner, peer: peer) + layout.suffix(ofUser: owner)
    }
    /// On a tagged layout a client id with a brace would put its own hash tag before the
    /// partition's (`chat:sent:7:a{b}c{p3}` hashes on `b`): such an id is percent-encoded
    /// (`%`, `{`, `}`) under a name of its own, `chat:sent:escaped:7:a%7Bb%7Dc{p3}`, which no
    /// ordinary id's name can be (a uid is digits). Ordinary ids, and every id when plain,
    /// keep the plain name.
    public func sentByClientID(_ userID: Int, _ clientID: String) -> String {
        guard layout.isTagged, clientID.contains(where: { $0 == "{" || $0 == "}" }) else {
            return Self.sentByClientID(userID, clientID) + layout.suffix(ofUser: userID)
        }
        return "chat:sent:escaped:\(userID):\(Self.escapingBraces(clientID))" + layout.suffix(ofUser: userID)
    }
    /// `%`, `{` and `}` percent-encoded: no brace left, and two ids never meet.
    static func escapingBraces(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 6)
        for character in text.unicodeScalars {
            switch character {
            case "%": escaped += "%25"
            case "{": escaped += "%7B"
            case "}": escaped += "%7D"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
    public func sendRate(_ userID: Int) -> String { Self.sendRate(userID) + layout.suffix(ofUser: userID) }
    public func uploadsOfDay(_ userID: Int, day: String) -> String {
        Self.uploadsOfDay(userID, day: day) + layout.suffix(ofUser: userID)
    }
    public func groupsOfUser(_ userID: Int) -> String { Self.groupsOfUser(userID) + layout.suffix(ofUser: userID) }
    public func complaintsOfUser(_ userID: Int) -> String { Self.complaintsOfUser(userID) + layout.suffix(ofUser: userID) }
    public func askAnswersOfUser(_ userID: Int) -> String { Self.askAnswersOfUser(userID) + layout.suffix(ofUser: userID) }

    // A group's keys: the partition of the group.
    public func group(_ groupID: Int) -> String { Self.group(groupID) + layout.suffix(ofGroup: groupID) }
    public func groupMembers(_ groupID: Int) -> String { Self.groupMembers(groupID) + layout.suffix(ofGroup: groupID) }
    public func groupMembersVersion(_ groupID: Int) -> String {
        Self.groupMembersVersion(groupID) + layout.suffix(ofGroup: groupID)
    }
    public func groupHistory(_ groupID: Int) -> String { Self.groupHistory(groupID) + layout.suffix(ofGroup: groupID) }

    // Each partition's own copy of what a script run in it needs: the offline bodies and
    // their byte counts, the live processes and their delivery streams and sequences.
    public func offlineBodies(partition: Int) -> String { Self.offlineBodies + layout.suffix(ofPartition: partition) }
    public func offlineBytes(partition: Int) -> String { Self.offlineBytes + layout.suffix(ofPartition: partition) }
    public func nodes(partition: Int) -> String { Self.nodes + layout.suffix(ofPartition: partition) }
    public func nodeDeliveries(partition: Int) -> String { Self.nodeDeliveries + layout.suffix(ofPartition: partition) }
    /// A process's deliveries from one partition: a process reads one stream per partition.
    public func nodeStream(_ nodeID: String, partition: Int) -> String {
        Self.nodeStream(nodeID) + layout.suffix(ofPartition: partition)
    }

    /// The partition's shard of a stream (analytics read every shard: docs/streams.md).
    public func stream(_ name: String, partition: Int) -> String { name + layout.suffix(ofPartition: partition) }
    /// Every shard of a stream, partition by partition.
    public func shards(of name: String) -> [String] { layout.suffixes.map { name + $0 } }

    /// The deployment's partition count and layout version (HSETNX'd by the first process,
    /// checked by every other: processes that disagree on the layout must not share a Redis).
    public static let meta = "chat:meta"
}
