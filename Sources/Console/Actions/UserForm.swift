import Model

/// The fields of the user form (and of `POST /api/users[/{id}]`), checked as
/// `regChat` checks them (docs/api.md): username 4–20 characters, password 6–20,
/// nickname up to 30, avatar up to 1000.
struct UserForm: Sendable {
    let input: RequestInput
    typealias Refusal = FlashMessage.Failure

    func username() throws -> String {
        guard let value = input.trimmed("username"), value.count >= 4, StoredLimits.User.username.admits(value) else {
            throw Refusal.usernameLength
        }
        return value
    }

    /// nil: no password given (an edit keeps the old one).
    func password() throws -> String? {
        guard let value = input["password"], !value.isEmpty else { return nil }
        guard (6...20).contains(value.count) else { throw Refusal.passwordLength }
        return value
    }

    func nickname() throws -> String? {
        guard let value = input.trimmed("nickname") else { return nil }
        guard StoredLimits.User.nickname.admits(value) else { throw Refusal.nicknameLength }
        return value
    }

    func avatar() throws -> String? {
        guard let value = input.trimmed("avatar") else { return nil }
        guard StoredLimits.User.avatar.admits(value) else { throw Refusal.avatarLength }
        return value
    }
}
