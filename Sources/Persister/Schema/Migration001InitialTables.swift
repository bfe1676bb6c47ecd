// Migration 1: the tables of the old eggjs system, so that its admin tools and SQL keep
// working, with the fixes of docs/architecture.md; plus `message` and `askanswer`, added by this
// project. Every entity table has a `version` column: the persister applies an entity
// change only when its version is newer than the row's, so replays and reordering can
// never overwrite a newer state with an older one.
//
// Conventions kept from the old schema: INT UNSIGNED AUTO_INCREMENT ids (the bridge
// allocates them from Redis counters, so they stay compatible with imported ids),
// DATETIME create_time/update_time, TINYINT flags, `order` 50.
//
// No FOREIGN KEY constraints: referential integrity is enforced by the bridge's Lua
// scripts in Redis, which is the live store. The persister replays a stream of
// snapshots and must never fail on one because a related row is missing or not written
// yet (a user deleted before their messages are drained, an import in any order); the
// referencing columns are indexed instead.

extension Migration {
    static let createInitialTables = Migration(
        version: 1,
        name: "create_initial_tables",
        statements: [
            InitialTables.user,
            InitialTables.userInfo,
            InitialTables.goodfriend,
            InitialTables.goodfriendapply,
            InitialTables.group,
            InitialTables.groupUser,
            InitialTables.chatComplaint,
            InitialTables.message,
            InitialTables.askanswer,
        ]
    )
}

private enum InitialTables {
    static let tableOptions = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"

    static let timestamps = """
          `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT '创建时间',
          `update_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP COMMENT '更新时间',
        """

    static let version = """
          `version` BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '行版本：只应用更新的实体变更（幂等、按序）',
        """

    static let user = """
        CREATE TABLE IF NOT EXISTS `user` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
          `uuid` VARCHAR(36) NOT NULL COMMENT '用户唯一标识uuid',
          `username` VARCHAR(50) NOT NULL COMMENT '用户名',
          `password` VARCHAR(255) NOT NULL DEFAULT '' COMMENT '密码',
          `nickname` VARCHAR(50) NOT NULL DEFAULT '' COMMENT '昵称',
          `avatar` VARCHAR(1000) NULL DEFAULT NULL COMMENT '头像',
          `devicefingeruuid` VARCHAR(200) NULL DEFAULT '' COMMENT '设备标识（游客标识）',
          -- Fix: the old schema had UNIQUE on devicefingeruuid with DEFAULT '', so the second
          -- ordinary account (no device) collided with the first. This generated column is
          -- NULL for '' (and NULL), and a unique key ignores NULLs: devices stay unique, while
          -- the column itself keeps the old values and semantics for old tools and imports.
          `devicefingeruuid_key` VARCHAR(200) AS (NULLIF(`devicefingeruuid`, '')) STORED COMMENT '非空设备标识（唯一）',
          `uniplatform` VARCHAR(100) NOT NULL DEFAULT '' COMMENT '平台',
          `devicemodel` VARCHAR(100) NOT NULL DEFAULT '' COMMENT '设备型号',
          `deviceos` VARCHAR(100) NOT NULL DEFAULT '' COMMENT '设备操作系统',
          `devicebrand` VARCHAR(100) NOT NULL DEFAULT '' COMMENT '设备品牌',
          `userset` TEXT NULL COMMENT '用户设置（JSON）',
          `invite_confirm` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '加我为好友是否需要验证：0否 1是',
          `mobile` VARCHAR(20) NULL DEFAULT NULL COMMENT '手机号',
          `email` VARCHAR(100) NULL DEFAULT NULL COMMENT '邮箱',
          `status` TINYINT NOT NULL DEFAULT 1 COMMENT '状态：1正常 0禁用',
          `last_login` DATETIME NULL DEFAULT NULL COMMENT '最近登录时间',
          `last_login_ip` VARCHAR(45) NULL DEFAULT NULL COMMENT '最近登录IP',
          `register_time` DATETIME NULL DEFAULT NULL COMMENT '注册时间',
          `register_ip` VARCHAR(45) NULL DEFAULT NULL COMMENT '注册IP',
          `is_deleted` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '是否删除：0否 1是',
          `wechat_openid` VARCHAR(128) NULL DEFAULT NULL COMMENT '微信openid',
          `qq_openid` VARCHAR(128) NULL DEFAULT NULL COMMENT 'QQ openid',
          `weibo_uid` VARCHAR(128) NULL DEFAULT NULL COMMENT '微博uid',
          `role` VARCHAR(20) NOT NULL DEFAULT 'user' COMMENT '角色：user用户 visitor游客',
          `is_email_verified` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '邮箱是否已验证',
          `is_mobile_verified` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '手机号是否已验证',
          `order` INT NOT NULL DEFAULT 50 COMMENT '排序',
        \(timestamps)
        \(version)
          PRIMARY KEY (`id`),
          UNIQUE KEY `uuid` (`uuid`),
          UNIQUE KEY `username` (`username`),
          UNIQUE KEY `devicefingeruuid` (`devicefingeruuid_key`),
          UNIQUE KEY `mobile` (`mobile`),
          UNIQUE KEY `email` (`email`),
          UNIQUE KEY `wechat_openid` (`wechat_openid`),
          UNIQUE KEY `qq_openid` (`qq_openid`),
          UNIQUE KEY `weibo_uid` (`weibo_uid`)
        ) \(tableOptions) COMMENT='用户表'
        """

    static let userInfo = """
        CREATE TABLE IF NOT EXISTS `user_info` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
          `user_id` INT UNSIGNED NOT NULL COMMENT '用户id',
          `gender` ENUM('male','female','unknown') NOT NULL DEFAULT 'unknown' COMMENT '性别',
          `birthday` DATETIME NULL DEFAULT NULL COMMENT '生日',
          `bio` VARCHAR(200) NULL DEFAULT NULL COMMENT '个人简介',
          `location` VARCHAR(100) NULL DEFAULT NULL COMMENT '所在地',
          `website` VARCHAR(255) NULL DEFAULT NULL COMMENT '个人网站',
          `order` INT NOT NULL DEFAULT 50 COMMENT '排序',
        \(timestamps)
        \(version)
          PRIMARY KEY (`id`),
          KEY `user_id` (`user_id`)
        ) \(tableOptions) COMMENT='用户资料表'
        """

    static let goodfriend = """
        CREATE TABLE IF NOT EXISTS `goodfriend` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
          `user_id` INT UNSIGNED NOT NULL COMMENT '用户id（我）',
          `friend_id` INT UNSIGNED NOT NULL COMMENT '好友id',
          `nickname` VARCHAR(50) NOT NULL DEFAULT '' COMMENT '好友备注',
          `friendlookme` TINYINT(1) NOT NULL DEFAULT 1 COMMENT '允许好友看我（朋友圈）：0否 1是',
          `melookfriend` TINYINT(1) NOT NULL DEFAULT 1 COMMENT '我看好友（朋友圈）：0否 1是',
          `ismystarfriend` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '是否星标好友：0否 1是',
          `isblack` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '是否拉黑：0否 1是',
          `status` TINYINT NOT NULL DEFAULT 1 COMMENT '状态：1正常 0禁用',
          `order` INT NOT NULL DEFAULT 50 COMMENT '排序',
        \(timestamps)
        \(version)
          PRIMARY KEY (`id`),
          -- Fix: one row per (owner, friend); the old table allowed duplicates.
          UNIQUE KEY `user_id_friend_id` (`user_id`, `friend_id`),
          KEY `friend_id` (`friend_id`)
        ) \(tableOptions) COMMENT='好友表'
        """

    static let goodfriendapply = """
        CREATE TABLE IF NOT EXISTS `goodfriendapply` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
          `user_id` INT UNSIGNED NOT NULL COMMENT '申请人id',
          `friend_id` INT UNSIGNED NOT NULL COMMENT '被申请人id',
          `nickname` VARCHAR(50) NOT NULL DEFAULT '' COMMENT '备注',
          `friendlookme` TINYINT(1) NOT NULL DEFAULT 1 COMMENT '允许好友看我（朋友圈）：0否 1是',
          `melookfriend` TINYINT(1) NOT NULL DEFAULT 1 COMMENT '我看好友（朋友圈）：0否 1是',
          `ismystarfriend` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '是否星标好友：0否 1是',
          `isblack` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '是否拉黑：0否 1是',
          `status` ENUM('pending','refuse','agree','ignore') NOT NULL DEFAULT 'pending' COMMENT '申请状态',
          `order` INT NOT NULL DEFAULT 50 COMMENT '排序',
        \(timestamps)
        \(version)
          PRIMARY KEY (`id`),
          KEY `user_id_friend_id` (`user_id`, `friend_id`),
          KEY `friend_id_status` (`friend_id`, `status`)
        ) \(tableOptions) COMMENT='好友申请表'
        """

    static let group = """
        CREATE TABLE IF NOT EXISTS `group` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
          `uuid` VARCHAR(36) NOT NULL COMMENT '群唯一标识uuid',
          `user_id` INT UNSIGNED NOT NULL COMMENT '群主id',
          `name` VARCHAR(50) NOT NULL DEFAULT '' COMMENT '群名称',
          `avatar` VARCHAR(4000) NULL DEFAULT NULL COMMENT '群头像',
          `remark` TEXT NULL COMMENT '群公告',
          `invite_confirm` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '进群是否需要群主确认：0否 1是',
          `status` TINYINT NOT NULL DEFAULT 1 COMMENT '状态：1正常 0禁用',
          `order` INT NOT NULL DEFAULT 50 COMMENT '排序',
        \(timestamps)
        \(version)
          PRIMARY KEY (`id`),
          UNIQUE KEY `uuid` (`uuid`),
          KEY `user_id` (`user_id`)
        ) \(tableOptions) COMMENT='群组表'
        """

    static let groupUser = """
        CREATE TABLE IF NOT EXISTS `group_user` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
          `group_id` INT UNSIGNED NOT NULL COMMENT '群id',
          `user_id` INT UNSIGNED NOT NULL COMMENT '用户id',
          `nickname` VARCHAR(50) NOT NULL DEFAULT '' COMMENT '群内昵称',
          `avatar` VARCHAR(1000) NOT NULL DEFAULT '' COMMENT '群内头像',
          `status` TINYINT NOT NULL DEFAULT 1 COMMENT '状态：1正常 0禁用',
          `order` INT NOT NULL DEFAULT 50 COMMENT '排序',
        \(timestamps)
        \(version)
          PRIMARY KEY (`id`),
          -- Fix: one membership per (group, user); the old table allowed duplicates.
          UNIQUE KEY `group_id_user_id` (`group_id`, `user_id`),
          KEY `user_id` (`user_id`)
        ) \(tableOptions) COMMENT='群成员表'
        """

    static let chatComplaint = """
        CREATE TABLE IF NOT EXISTS `chat_complaint` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
          `user_id` INT UNSIGNED NOT NULL COMMENT '投诉人id',
          `target_id` INT UNSIGNED NOT NULL COMMENT '被投诉对象id（用户或群）',
          `target_type` ENUM('group','single') NOT NULL COMMENT '被投诉对象类型：group群 single用户',
          `target_name` VARCHAR(100) NULL DEFAULT NULL COMMENT '被投诉对象名称',
          `reason` VARCHAR(500) NOT NULL COMMENT '投诉原因',
          `content` TEXT NULL COMMENT '投诉内容',
          `images` TEXT NULL COMMENT '图片',
          `complaint_chatinfo` TEXT NULL COMMENT '投诉的聊天信息',
          `status` TINYINT NOT NULL DEFAULT 0 COMMENT '处理状态：0待处理 1处理中 2已处理 3已关闭',
          `admin_reply` TEXT NULL COMMENT '管理员回复',
        \(timestamps)
          `is_deleted` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '是否删除：0否 1是',
        \(version)
          PRIMARY KEY (`id`),
          KEY `user_id_is_deleted` (`user_id`, `is_deleted`),
          KEY `status` (`status`)
        ) \(tableOptions) COMMENT='聊天投诉表'
        """

    // Added by this project: every message, single or group, once. `from_id` is text
    // because system senders use 0 or `redirect-…` ids. The two indexes serve "the
    // conversation between A and B by time" (one range per direction) and "group G by
    // time".
    static let message = """
        CREATE TABLE IF NOT EXISTS `message` (
          `id` CHAR(36) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL COMMENT '消息id（UUID v4）',
          `chat_type` ENUM('single','group') NOT NULL COMMENT '聊天类型：single单聊 group群聊',
          `type` VARCHAR(32) NOT NULL COMMENT '消息类型：text image audio video …',
          `from_id` VARCHAR(100) NOT NULL COMMENT '发送者id（系统消息为0或redirect-…）',
          `to_id` INT UNSIGNED NOT NULL COMMENT '接收者id（群聊为群id）',
          `from_name` VARCHAR(100) NOT NULL DEFAULT '' COMMENT '发送者名称',
          `from_avatar` VARCHAR(1000) NOT NULL DEFAULT '' COMMENT '发送者头像',
          `to_name` VARCHAR(100) NOT NULL DEFAULT '' COMMENT '接收者名称',
          `to_avatar` VARCHAR(4000) NOT NULL DEFAULT '' COMMENT '接收者头像',
          `data` MEDIUMTEXT NOT NULL COMMENT '消息内容（JSON）',
          `options` TEXT NULL COMMENT '消息选项（JSON）',
          `create_time` BIGINT UNSIGNED NOT NULL COMMENT '发送时间（毫秒时间戳）',
          `isremove` TINYINT(1) NOT NULL DEFAULT 0 COMMENT '是否撤回：0否 1是',
        \(version)
          PRIMARY KEY (`id`),
          KEY `conversation_time` (`chat_type`, `from_id`, `to_id`, `create_time`),
          KEY `group_time` (`chat_type`, `to_id`, `create_time`)
        ) \(tableOptions) COMMENT='聊天消息表'
        """

    // Added by this project: a user's question/answer pairs for automatic replies.
    static let askanswer = """
        CREATE TABLE IF NOT EXISTS `askanswer` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
          `user_id` INT UNSIGNED NOT NULL COMMENT '所属用户id（create_userId）',
          `ask` VARCHAR(1000) NOT NULL COMMENT '问题',
          `answer` TEXT NOT NULL COMMENT '答案',
          `type` VARCHAR(50) NOT NULL DEFAULT '' COMMENT '分类',
        \(timestamps)
        \(version)
          PRIMARY KEY (`id`),
          KEY `user_id` (`user_id`)
        ) \(tableOptions) COMMENT='自动问答表'
        """
}
