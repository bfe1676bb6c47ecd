/// A migration run that could not go ahead.
enum MigrationError: Error, Sendable, CustomStringConvertible {
    /// Another `migrate` held the lock of this database for the whole wait.
    case lockTimeout(database: String, waited: Duration)
    /// `schema_migrations` holds a version that is not a number.
    case unreadableVersion(String)

    var description: String {
        switch self {
        case .lockTimeout(let database, let waited):
            "another migration of database \(database) is still running after \(waited); try again later"
        case .unreadableVersion(let text):
            "schema_migrations holds an unreadable version '\(text)'"
        }
    }
}
