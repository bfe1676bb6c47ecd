/// A bad configuration value. Printed as one line naming the option and its
/// environment variable, then the program stops (exit code 64, EX_USAGE).
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let option: String
    public let environmentVariable: String
    public let reason: String

    public init(option: String, environmentVariable: String, reason: String) {
        self.option = option
        self.environmentVariable = environmentVariable
        self.reason = reason
    }

    public var description: String {
        "invalid value for --\(option) (\(environmentVariable)): \(reason)"
    }
}
