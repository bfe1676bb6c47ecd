/// The one table of sizes: every value the bridge accepts and the persister stores, with
/// the largest value accepted and the column that holds it. The bridge refuses a larger
/// value with a text naming the field (docs/api.md *Limits*); `persister migrate` widens
/// any column narrower than this table (docs/architecture.md *MariaDB*). So one edit here
/// changes both, and an accepted value is never refused by MariaDB.
///
/// Columns wider than needed keep the old system's sizes (its admin tools and imports).
public enum StoredLimits {
    public enum User {
        public static let username = ColumnLimit("user", "username", .varchar(50), maximum: 20)
        public static let nickname = ColumnLimit("user", "nickname", .varchar(50), maximum: 30)
        public static let avatar = ColumnLimit("user", "avatar", .varchar(1000))
        /// A visitor's `deviceId` (in practice 36: it must be `^[\w-]{36}$`). The generated
        /// unique key `devicefingeruuid_key` copies it as VARCHAR(200): a larger limit needs
        /// a migration of that column too.
        public static let deviceID = ColumnLimit("user", "devicefingeruuid", .varchar(200))
        public static let uniplatform = ColumnLimit("user", "uniplatform", .varchar(100), maximum: 50)
        public static let devicemodel = ColumnLimit("user", "devicemodel", .varchar(100), maximum: 50)
        public static let deviceos = ColumnLimit("user", "deviceos", .varchar(100), maximum: 50)
        public static let devicebrand = ColumnLimit("user", "devicebrand", .varchar(100), maximum: 50)
        public static let userset = ColumnLimit("user", "userset", .text)
    }

    public enum Friend {
        /// My remark for a friend (`goodfriend.nickname`).
        public static let remark = ColumnLimit("goodfriend", "nickname", .varchar(50))
        /// The remark a request carries (`goodfriendapply.nickname`).
        public static let requestRemark = ColumnLimit("goodfriendapply", "nickname", .varchar(50))
    }

    public enum Group {
        /// The members' names joined at creation, cut to this.
        public static let derivedName = ColumnLimit("group", "name", .varchar(50))
        /// `groupUpdateName`.
        public static let name = ColumnLimit("group", "name", .varchar(50), maximum: 20)
        /// The first `avatarMembers` active members' avatars joined by `,`: composed, never
        /// sent, so the column holds the largest composition.
        public static let avatarMembers = 9
        public static let avatar = ColumnLimit(
            "group", "avatar", .varchar(avatarMembers * User.avatar.maximum + (avatarMembers - 1))
        )
        /// The announcement (`groupremark`).
        public static let remark = ColumnLimit("group", "remark", .text, maximum: 500, unit: .characters)
        /// A member's group nickname (`groupnickname`).
        public static let nickname = ColumnLimit("group_user", "nickname", .varchar(50), maximum: 20)
    }

    public enum Complaint {
        public static let targetName = ColumnLimit("chat_complaint", "target_name", .varchar(100))
        public static let reason = ColumnLimit("chat_complaint", "reason", .varchar(500))
        public static let content = ColumnLimit("chat_complaint", "content", .text)
        public static let images = ColumnLimit("chat_complaint", "images", .text)
        public static let chatInfo = ColumnLimit("chat_complaint", "complaint_chatinfo", .text)
    }

    public enum AskAnswer {
        public static let ask = ColumnLimit("askanswer", "ask", .varchar(1000))
        public static let answer = ColumnLimit("askanswer", "answer", .text)
        public static let type = ColumnLimit("askanswer", "type", .varchar(50))
    }

    public enum Message {
        public static let type = ColumnLimit("message", "type", .varchar(50))
        /// `data` as stored (a string as its JSON text), by message type: a text may be
        /// long, everything else is a link or a small object. Types not listed: `otherData`.
        public static let textData = ColumnLimit("message", "data", .mediumText, maximum: 65_535)
        public static let otherData = ColumnLimit("message", "data", .mediumText, maximum: 16_384)
        public static let dataByType: [String: ColumnLimit] = ["text": textData]
        /// `options` as stored (its JSON text), every type.
        public static let options = ColumnLimit("message", "options", .text)
        /// Composed by the send scripts: a remark, nickname, username or group nickname.
        public static let fromName = ColumnLimit("message", "from_name", .varchar(100), maximum: Friend.remark.maximum)
        /// A user's avatar (a member's group avatar is never set by the bridge).
        public static let fromAvatar = ColumnLimit("message", "from_avatar", .varchar(1000), maximum: User.avatar.maximum)
        /// A group's or a user's name, or the `to_name` a revoke sends.
        public static let toName = ColumnLimit("message", "to_name", .varchar(100), maximum: Group.derivedName.maximum)
        /// A user's avatar, or a group's composed one.
        public static let toAvatar = ColumnLimit("message", "to_avatar", Group.avatar.type)

        /// The limit of `data` for a message of `type`.
        public static func data(ofType type: String) -> ColumnLimit {
            dataByType[type] ?? otherData
        }
    }

    /// What the operators' console writes (docs/console.md): it refuses a larger value with
    /// the limit's text; the bridge never writes these columns.
    public enum Console {
        /// An admin account's name (`lua/admin_account.lua` also allows only `[A-Za-z0-9_.-]`).
        public static let adminName = ColumnLimit("chat_admin", "name", .varchar(64))
        /// An operator's reply to a complaint (the audit row's detail repeats it).
        public static let adminReply = ColumnLimit("chat_complaint", "admin_reply", .text, maximum: 2000, unit: .characters)
        /// The audit row: who (an admin's name), what (`user.disable`…), on what, from where
        /// (an IPv6 address in text is at most 45 characters), and the detail (JSON text
        /// without secrets, the largest being a reply or an edit with an avatar).
        public static let auditAdmin = ColumnLimit("admin_audit", "admin", .varchar(64))
        public static let auditAction = ColumnLimit("admin_audit", "action", .varchar(64))
        public static let auditTargetType = ColumnLimit("admin_audit", "target_type", .varchar(32))
        public static let auditDetail = ColumnLimit("admin_audit", "detail", .text)
        public static let auditAddress = ColumnLimit("admin_audit", "address", .varchar(45))
    }

    /// The console's entries: in the migrations like the others, walked by the console's
    /// own tests (the bridge has no request that reaches them).
    public static let console: [ColumnLimit] = [
        Console.adminName, Console.adminReply, Console.auditAdmin, Console.auditAction, Console.auditTargetType,
        Console.auditDetail, Console.auditAddress,
    ]

    /// Every entry, for the migrations (the widest type per column wins) and the tests.
    public static let all: [ColumnLimit] = [
        User.username, User.nickname, User.avatar, User.deviceID, User.uniplatform, User.devicemodel, User.deviceos,
        User.devicebrand, User.userset,
        Friend.remark, Friend.requestRemark,
        Group.derivedName, Group.name, Group.avatar, Group.remark, Group.nickname,
        Complaint.targetName, Complaint.reason, Complaint.content, Complaint.images, Complaint.chatInfo,
        AskAnswer.ask, AskAnswer.answer, AskAnswer.type,
        Message.type, Message.textData, Message.otherData, Message.options, Message.fromName, Message.fromAvatar,
        Message.toName, Message.toAvatar,
    ]

    /// Table → column → the type the schema must hold at least.
    public static var columnTypes: [String: [String: ColumnType]] {
        var types: [String: [String: ColumnType]] = [:]
        for limit in all + console {
            if let known = types[limit.table]?[limit.column], known.holds(limit.type) { continue }
            types[limit.table, default: [:]][limit.column] = limit.type
        }
        return types
    }
}
