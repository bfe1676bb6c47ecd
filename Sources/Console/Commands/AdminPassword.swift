import Foundation

/// The password of `console admin create|reset`: generated (20 characters of a
/// 62-letter alphabet, about 119 bits) or read from the `--password-file`, which is
/// written with mode 0600 before anything else sees it.
struct AdminPassword {
    let text: String
    /// Where it is kept; nil: printed once.
    let file: String?

    static let length = 20
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// `reuse`: a password already in the file is used (create), else replaced (reset).
    static func obtain(file: String?, reuse: Bool = true) throws -> AdminPassword {
        guard let file else { return AdminPassword(text: generate(), file: nil) }
        if reuse, let existing = try? String(contentsOfFile: file, encoding: .utf8) {
            let trimmed = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return AdminPassword(text: trimmed, file: file) }
        }
        let password = generate()
        try write(password + "\n", to: file)
        return AdminPassword(text: password, file: file)
    }

    /// Created 0600 (umask cannot widen it), then renamed over the old file.
    private static func write(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw POSIXFailure(what: "open \(temporary)") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        guard Glibc.write(descriptor, bytes, bytes.count) == bytes.count, fchmod(descriptor, 0o600) == 0 else {
            throw POSIXFailure(what: "write \(temporary)")
        }
        guard rename(temporary, path) == 0 else { throw POSIXFailure(what: "rename \(temporary)") }
    }

    func announce(for name: String) {
        if let file {
            print("admin '\(name)': password in \(file)")
        } else {
            print("admin '\(name)': password \(text)")
        }
    }

    struct POSIXFailure: Error, CustomStringConvertible {
        let what: String
        let code = errno
        var description: String { "\(what): \(String(cString: strerror(code)))" }
    }
}
