/// The list of migrations, oldest first. Add new ones at the end, in their own file.
enum SchemaMigrations {
    static let all: [Migration] = [
        .createInitialTables,
        .addTombstonesAndMilliseconds,
        .addBlocks,
        .addConsole,
    ]

    /// The bookkeeping table, created before anything else.
    static let createBookkeepingTable = """
        CREATE TABLE IF NOT EXISTS `schema_migrations` (
          `version` INT UNSIGNED NOT NULL COMMENT '迁移版本号',
          `name` VARCHAR(200) NOT NULL COMMENT '迁移名称',
          `applied_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) COMMENT '应用时间',
          PRIMARY KEY (`version`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='数据库迁移记录'
        """
}
