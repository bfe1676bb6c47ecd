#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One configuration value: a command-line flag, else an environment variable, else a
/// default. ArgumentParser has no environment fallback of its own, so every option is
/// declared optional and resolved here, which also gives every error the same shape.
public struct Setting: Sendable {
    public let option: String
    public let environmentVariable: String

    public init(_ option: String, env environmentVariable: String) {
        self.option = option
        self.environmentVariable = environmentVariable
    }

    /// The raw text: the flag's value, else the environment's, else `nil`.
    public func raw(flag: String?, environment: [String: String]) -> String? {
        if let flag { return flag }
        if let value = environment[environmentVariable], !value.isEmpty { return value }
        return nil
    }

    /// Resolves and parses the value; `parse` throws or returns nil for a bad value.
    public func resolve<T>(
        flag: String?,
        environment: [String: String],
        default defaultValue: @autoclosure () -> T,
        parse: (String) throws -> T?
    ) throws(ConfigurationError) -> T {
        guard let text = raw(flag: flag, environment: environment) else { return defaultValue() }
        do {
            guard let value = try parse(text) else { throw fail("'\(text)' is not valid") }
            return value
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw fail("'\(text)': \(error)")
        }
    }

    public func fail(_ reason: String) -> ConfigurationError {
        ConfigurationError(option: option, environmentVariable: environmentVariable, reason: reason)
    }
}

/// The process environment as a dictionary (read once at start-up).
public func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        pointer += 1
    }
    return result
}
