import Model

/// What `groupQrcode` encodes (docs/api.md): for H5 (`type=H5` with `http` and `chatType`) the
/// address of the client page that adds the group or the user, otherwise
/// `{"id":…,"name":…}` for the apps and mini programs to read.
struct QRCodeContent: Equatable, Sendable {
    enum Subject: Equatable, Sendable {
        case group(id: Int, name: String)
        case user(id: Int, name: String, avatar: String)

        var chatType: String {
            switch self {
            case .group: "group"
            case .user: "single"
            }
        }
    }

    /// The page's title: the old server's for groups; ours for users (it had none).
    static let groupTitle = "群介绍"
    static let userTitle = "个人介绍"

    let text: String

    /// `h5Base`: the `http` parameter when `type` is `H5`, else nil.
    init(subject: Subject, h5Base: String?) {
        guard let h5Base else {
            let object: JSONObject
            switch subject {
            case .group(let id, let name), .user(let id, let name, _):
                object = ["id": .integer(Int64(id)), "name": .string(name)]
            }
            text = JSONSerializer.string(.object(object))
            return
        }
        var url = "\(h5Base)#/pages/setpageInfo/setpageInfo?action=autoAddGroup"
        switch subject {
        case .group(let id, let name):
            url += "&title=\(URIComponent.encode(Self.groupTitle))&id=\(id)&chatType=\(subject.chatType)&name=\(URIComponent.encode(name))"
        case .user(let id, let name, let avatar):
            url += "&title=\(URIComponent.encode(Self.userTitle))&id=\(id)&chatType=\(subject.chatType)&name=\(URIComponent.encode(name))"
            url += "&avatar=\(URIComponent.encode(avatar))"
        }
        text = url
    }
}
