/// A MariaDB URL that cannot be used; the description says what is wrong in one line.
public struct MariaDBConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
