// Migration 4: the operators' console (docs/console.md).
//
// `chat_admin`: the console's accounts, written from the `admin` entity events of the
// private stream (the bcrypt hash with them, like `user.password`); `persister hydrate`
// gives them back to Redis (chat:admin:{name}). `admin_audit`: one row per operator's
// action, who, what, on which target, from where and when, written from the
// `admin_audit` events; the console reads its newest rows from Redis (chat:admin:audit),
// this table is the durable record.

extension Migration {
    static let addConsole = Migration(
        version: 4,
        name: "add_chat_admin_and_admin_audit",
        statements: [
            """
            CREATE TABLE IF NOT EXISTS `chat_admin` (
              `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
              `name` VARCHAR(64) NOT NULL COMMENT '管理员账号',
              `password` VARCHAR(255) NOT NULL COMMENT '密码（bcrypt）',
              `status` TINYINT NOT NULL DEFAULT 1 COMMENT '状态：1启用 0禁用',
              `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT '创建时间',
              `update_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP COMMENT '更新时间',
              `version` BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '行版本：只应用更新的实体变更（幂等、按序）',
              PRIMARY KEY (`id`),
              UNIQUE KEY `name` (`name`)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='后台管理员'
            """,
            """
            CREATE TABLE IF NOT EXISTS `admin_audit` (
              `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
              `admin` VARCHAR(64) NOT NULL COMMENT '操作的管理员（命令行为 cli）',
              `action` VARCHAR(64) NOT NULL COMMENT '操作，如 user.disable',
              `target_type` VARCHAR(32) NOT NULL COMMENT '对象类型：user group complaint deadletter admin',
              `target_id` BIGINT NULL DEFAULT NULL COMMENT '对象id',
              `detail` TEXT NULL COMMENT '详情（JSON，不含密码）',
              `address` VARCHAR(45) NOT NULL DEFAULT '' COMMENT '管理员的客户端地址',
              `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT '操作时间',
              `version` BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '行版本：只应用更新的实体变更（幂等、按序）',
              PRIMARY KEY (`id`),
              KEY `create_time` (`create_time`),
              KEY `target_type_target_id` (`target_type`, `target_id`)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='后台操作审计'
            """,
        ]
    )
}
