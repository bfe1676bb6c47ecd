import Model

/// The address book of `goodfriendlist` (docs/api.md, *Friends*): entries grouped under the
/// pinyin initial of their `name`, groups A–Z with `#` last, entries in the order given.
enum FriendIndex {
    /// `{newList:[{title, list}], indexList, total}`, or `[]` without entries (as the
    /// old server answered).
    static func grouped(_ entries: [JSONObject], total: Int) -> JSONValue {
        guard !entries.isEmpty else { return .array([]) }
        var groups: [Character: [JSONObject]] = [:]
        for entry in entries {
            groups[PinyinInitial.of(entry["name"]?.stringValue ?? ""), default: []].append(entry)
        }
        var titles = groups.keys.filter { $0 != PinyinInitial.other }.sorted()
        if groups[PinyinInitial.other] != nil { titles.append(PinyinInitial.other) }
        return [
            "newList": .array(titles.map { title in
                ["title": .string(String(title)), "list": .array((groups[title] ?? []).map(JSONValue.object))]
            }),
            "indexList": .array(titles.map { .string(String($0)) }),
            "total": .integer(Int64(total)),
        ]
    }
}
