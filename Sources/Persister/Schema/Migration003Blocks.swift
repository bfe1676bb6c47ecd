// Migration 3: blocks as facts of their own (docs/api.md, *Blocks*).
//
// `user_block`: one row per block, written from the `block` entity events: a block
// outlives the friendship rows (whose `isblack` only mirrors it), and `persister hydrate`
// gives it back to Redis (chat:blocks:{user_id}). Not unique per pair: a lifted block
// is deleted and a new one gets a new id, and a unique key would drop an upsert whose
// pair's older row a delayed delete has not removed yet.

extension Migration {
    static let addBlocks = Migration(
        version: 3,
        name: "add_user_block",
        statements: [
            """
            CREATE TABLE IF NOT EXISTS `user_block` (
              `id` INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键id',
              `user_id` INT UNSIGNED NOT NULL COMMENT '拉黑的用户id（我）',
              `blocked_id` INT UNSIGNED NOT NULL COMMENT '被拉黑的用户id',
              `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT '拉黑时间',
              `version` BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '行版本：只应用更新的实体变更（幂等、按序）',
              PRIMARY KEY (`id`),
              KEY `user_id_blocked_id` (`user_id`, `blocked_id`),
              KEY `blocked_id` (`blocked_id`)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='拉黑（独立于好友关系）'
            """,
        ]
    )
}
