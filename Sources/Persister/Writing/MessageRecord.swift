/// One entry of `chat:stream:messages`: an accepted message, or the revoke of one.
///
/// Decoded in one pass over the entry's fields as the stream reply holds them: the text
/// columns stay ranges of those bytes, escaped straight into the INSERT (``BatchWriter``),
/// so a message costs no dictionary and no string per field.
struct MessageRecord: Sendable {
    enum Kind: String, Sendable, CaseIterable {
        case message
        case revoke
    }

    enum ChatType: String, Sendable, CaseIterable {
        case single
        case group
    }

    let kind: Kind
    let id: String
    let chatType: ChatType
    let toID: Int64
    let createTime: Int64
    let isRemoved: Bool
    /// The bytes the text columns below are ranges of (the stream reply's).
    let source: [UInt8]
    let type: Range<Int>
    let fromID: Range<Int>
    let fromName: Range<Int>
    let fromAvatar: Range<Int>
    let toName: Range<Int>
    let toAvatar: Range<Int>
    let data: Range<Int>
    /// Nil when the entry has none: `{}` is written.
    let options: Range<Int>?

    /// The bytes of its text columns (a row's size before escaping, numbers left out).
    var textBytes: Int {
        id.utf8.count + type.count + fromID.count + fromName.count + fromAvatar.count + toName.count + toAvatar.count
            + data.count + (options?.count ?? 2)
    }

    /// Fields given as texts (tests).
    init(fields: [String: String]) throws(EntryError) {
        try self.init(StreamEntryFields(fields))
    }

    init(_ fields: StreamEntryFields) throws(EntryError) {
        let source = fields.bytes
        var found = FoundFields()
        fields.forEachPair { name, value in
            if let field = Field(named: source[name]) { found[field] = value }
        }
        func text(_ field: Field) -> String { found[field].map { String(decoding: source[$0], as: UTF8.self) } ?? "" }

        guard let kind = found[.kind].flatMap({ Self.named(source[$0], in: Kind.allCases) }) else {
            throw EntryError("kind must be message or revoke, not '\(text(.kind))'")
        }
        guard let idRange = found[.id], !idRange.isEmpty, idRange.count <= 36,
              source[idRange].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw EntryError("id must be 1-36 printable ASCII characters, not '\(text(.id))'")
        }
        guard let chatType = found[.chatType].flatMap({ Self.named(source[$0], in: ChatType.allCases) }) else {
            throw EntryError("chat_type must be single or group, not '\(text(.chatType))'")
        }
        guard let toID = found[.toID].flatMap({ Self.integer(source[$0]) }), toID >= 0, toID <= Int64(UInt32.max) else {
            throw EntryError("to_id must be a non-negative integer, not '\(text(.toID))'")
        }
        guard let createTime = found[.createTime].flatMap({ Self.integer(source[$0]) }), createTime >= 0 else {
            throw EntryError("create_time must be milliseconds, not '\(text(.createTime))'")
        }
        guard let fromID = found[.fromID], !fromID.isEmpty else { throw EntryError("from_id is missing") }
        guard let data = found[.data] else { throw EntryError("data is missing") }
        self.kind = kind
        self.id = String(decoding: source[idRange], as: UTF8.self)
        self.chatType = chatType
        self.toID = toID
        self.createTime = createTime
        self.isRemoved = kind == .revoke || found[.isRemove].map { source[$0].elementsEqual(CollectionOfOne(UInt8(ascii: "1"))) } == true
        self.source = source
        self.type = found[.type] ?? 0..<0
        self.fromID = fromID
        self.fromName = found[.fromName] ?? 0..<0
        self.fromAvatar = found[.fromAvatar] ?? 0..<0
        self.toName = found[.toName] ?? 0..<0
        self.toAvatar = found[.toAvatar] ?? 0..<0
        self.data = data
        self.options = found[.options]
    }

    /// The case whose raw value the bytes spell.
    private static func named<Name: RawRepresentable<String>>(_ bytes: ArraySlice<UInt8>, in names: [Name]) -> Name? {
        names.first { bytes.elementsEqual($0.rawValue.utf8) }
    }

    /// A decimal integer of ASCII digits with an optional `-`; nil for anything else
    /// (including overflow), as `Int64(_:)` of the text would say.
    static func integer(_ digits: ArraySlice<UInt8>) -> Int64? {
        var rest = digits[...]
        let negative = rest.first == UInt8(ascii: "-")
        if negative || rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        guard !rest.isEmpty, rest.count <= 19 else { return nil }
        var value: Int64 = 0
        for byte in rest {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    /// The fields of a message entry (`lua/message_send_single.lua`); others are ignored.
    private enum Field: Int, CaseIterable {
        case kind, id, chatType, type, fromID, toID, fromName, fromAvatar, toName, toAvatar, data, options, createTime
        case isRemove

        var name: StaticString {
            switch self {
            case .kind: "kind"
            case .id: "id"
            case .chatType: "chat_type"
            case .type: "type"
            case .fromID: "from_id"
            case .toID: "to_id"
            case .fromName: "from_name"
            case .fromAvatar: "from_avatar"
            case .toName: "to_name"
            case .toAvatar: "to_avatar"
            case .data: "data"
            case .options: "options"
            case .createTime: "create_time"
            case .isRemove: "isremove"
            }
        }

        init?(named bytes: ArraySlice<UInt8>) {
            for field in Self.allCases where field.name.utf8CodeUnitCount == bytes.count {
                let equal = field.name.withUTF8Buffer { name in bytes.elementsEqual(name) }
                if equal {
                    self = field
                    return
                }
            }
            return nil
        }
    }

    /// Where each field's value is; a field given twice keeps its last value.
    private struct FoundFields {
        private var ranges = [Range<Int>?](repeating: nil, count: Field.allCases.count)

        subscript(field: Field) -> Range<Int>? {
            get { ranges[field.rawValue] }
            set { ranges[field.rawValue] = newValue }
        }
    }
}
