import Model
import Testing

@testable import ChatGateway

/// The guidance is written from templates serialized once (`GuidanceTemplate`): byte for
/// byte what building each message from `SystemNotice` gives.
@Suite("Guidance messages from their templates")
struct GuidanceTemplateTests {
    @Test("each message is the one built anew, for either role, with and without the facts", arguments: [Role.user, .visitor])
    func sameBytes(role: Role) throws {
        let guidance = GuidanceMessages(iconBase: #"https://icons.example/"q"/"#)
        // A name and an avatar that need escaping; an id that is not the template's stand-in.
        let user = UserRow(
            id: 4_111_999, uuid: "u", username: "名\"字\\ \n\u{1}", password: "", avatar: #"https://a.example/头像.png?x="1""#,
            role: role, createTime: ""
        )
        for facts in [GuidanceMessages.Facts(), GuidanceMessages.Facts(inActiveGroup: true, hasActiveFriend: true)] {
            let now: Int64 = 1_765_000_000_123
            let messages = guidance.messages(for: user, role: role, facts: facts, now: now)
            let ids = messages.map { message -> String in
                guard case .object(let object)? = try? JSONParser.parse(message) else { return "" }
                return object["id"]?.stringValue ?? ""
            }
            #expect(Set(ids).count == messages.count && !ids.contains(""))
            #expect(messages == guidance.messagesBuiltAnew(for: user, role: role, facts: facts, now: now, ids: ids))
            #expect(messages.count == (role == .user ? 7 : 2) + (facts.inActiveGroup ? 1 : 0) + (role == .user && facts.hasActiveFriend ? 1 : 0))
        }
    }
}
