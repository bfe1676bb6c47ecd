/// One versioned step of the MariaDB schema. Applied once per database, in version
/// order, and recorded in `schema_migrations`.
///
/// MariaDB commits every DDL statement on its own, so a migration cannot be atomic: if
/// a run stops half-way, the next run starts the same migration again. Every statement
/// must therefore be safe to repeat (`CREATE TABLE IF NOT EXISTS`,
/// `ADD COLUMN IF NOT EXISTS`, …). A released migration is never edited; changes go into
/// a new one.
struct Migration: Sendable, Identifiable {
    /// 1, 2, 3, … without gaps.
    let version: Int
    /// snake_case, recorded next to the version.
    let name: String
    let statements: [String]

    var id: Int { version }
}
