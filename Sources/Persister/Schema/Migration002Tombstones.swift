// Migration 2: what the persister needs beyond the tables themselves.
//
// `entity_tombstone`: a deleted row leaves its entity, id and the version of the delete
// here, so that an older upsert replayed after the delete (a crashed batch, a claimed
// entry, an import) cannot bring the row back: an upsert applies only when its version is
// newer than both the row's and the tombstone's.
//
// `user.last_login` and `user.register_time` with milliseconds: the bridge writes them as
// ISO-8601 with milliseconds, and `persister hydrate` must give back exactly what it
// wrote. DATETIME(3) reads as DATETIME for the old admin tools.
//
// `version` on the old system's tables: migration 1 creates tables only if they do not
// exist, so an imported eggjs database keeps its tables without the column.

extension Migration {
    static let addTombstonesAndMilliseconds = Migration(
        version: 2,
        name: "add_tombstones_and_login_milliseconds",
        statements: [
            """
            CREATE TABLE IF NOT EXISTS `entity_tombstone` (
              `entity` VARCHAR(32) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL COMMENT '实体（流中的 entity）',
              `id` INT UNSIGNED NOT NULL COMMENT '被删除行的id',
              `version` BIGINT UNSIGNED NOT NULL COMMENT '删除时的版本',
              `deleted_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT '写入时间',
              PRIMARY KEY (`entity`, `id`)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='已删除实体（防止旧变更复活）'
            """,
        ] + ["user", "user_info", "goodfriend", "goodfriendapply", "group", "group_user", "chat_complaint"].map { table in
            """
            ALTER TABLE `\(table)` ADD COLUMN IF NOT EXISTS `version` BIGINT UNSIGNED NOT NULL DEFAULT 0 \
            COMMENT '行版本：只应用更新的实体变更（幂等、按序）'
            """
        } + [
            "ALTER TABLE `user` MODIFY COLUMN IF EXISTS `last_login` DATETIME(3) NULL DEFAULT NULL COMMENT '最近登录时间'",
            "ALTER TABLE `user` MODIFY COLUMN IF EXISTS `register_time` DATETIME(3) NULL DEFAULT NULL COMMENT '注册时间'",
        ]
    )
}
