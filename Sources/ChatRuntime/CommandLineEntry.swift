import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ParsableCommand {
    /// Prints a configuration error as a single line and exits with EX_USAGE (64);
    /// ArgumentParser's own errors (unknown flag, --help) keep their usual output.
    public static func exit(configurationError error: ConfigurationError) -> Never {
        writeStandardError("\(Self._commandName): \(error)\n")
        terminate(64)
    }
}

/// Writes straight to file descriptor 2 (unbuffered, and no shared `FILE*`).
public func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}

func terminate(_ code: Int32) -> Never {
    exit(code)
}
