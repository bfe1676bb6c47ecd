/// What one `migrate` run did.
struct MigrationReport: Sendable {
    let database: String
    /// Applied by this run, in order; empty when the database was already up to date.
    let applied: [Migration]
    /// The newest version recorded in the database after the run (0: none).
    let schemaVersion: Int
    /// Versions recorded in the database that this program does not know: it is older
    /// than the schema.
    let unknownVersions: [Int]
    /// Columns widened to the limits table by this run (`table.column TYPE`).
    var widened: [String] = []

    /// One line for the operator.
    var summary: String {
        var text: String
        if applied.isEmpty {
            text = "database \(database) is up to date at schema version \(schemaVersion); no migration to apply"
        } else {
            let list = applied.map { "\($0.version) \($0.name)" }.joined(separator: ", ")
            text = "database \(database) migrated to schema version \(schemaVersion); applied \(applied.count): \(list)"
        }
        if !widened.isEmpty {
            text += "; widened to the limits table: \(widened.joined(separator: ", "))"
        }
        if !unknownVersions.isEmpty {
            text += "; warning: the database has migrations this program does not know: \(unknownVersions.map(String.init).joined(separator: ", "))"
        }
        return text
    }
}
