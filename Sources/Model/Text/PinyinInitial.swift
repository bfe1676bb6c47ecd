/// The letter `goodfriendlist` files a friend under (docs/api.md, *Friends*): the first
/// character of the display name, upper-cased.
///
/// - ASCII letters: that letter, upper-cased (`bob` → `B`).
/// - Full-width Latin letters (`Ｂｏｂ`, as Chinese input methods type them): their
///   ASCII letter, since they read as the same letter.
/// - CJK Unified Ideographs (U+4E00–U+9FFF) and Extension A (U+3400–U+4DBF): the
///   initial of the most common reading (pypinyin's default, see
///   `scripts/generate-pinyin-initials.py`): 张 → `Z`, 重 → `Z` (zhòng).
/// - Anything else — an empty name, digits, punctuation, other scripts, emoji,
///   ideographs outside those blocks, a leading space — `#`.
public enum PinyinInitial {
    public static let other: Character = "#"

    public static func of(_ name: String) -> Character {
        guard let scalar = name.unicodeScalars.first else { return other }
        return of(scalar)
    }

    public static func of(_ scalar: Unicode.Scalar) -> Character {
        let value = scalar.value
        switch value {
        case 0x41...0x5A: return Character(scalar)
        case 0x61...0x7A: return Character(Unicode.Scalar(UInt8(value - 0x20)))
        case 0xFF21...0xFF3A: return Character(Unicode.Scalar(UInt8(value - 0xFF21 + 0x41)))
        case 0xFF41...0xFF5A: return Character(Unicode.Scalar(UInt8(value - 0xFF41 + 0x41)))
        case PinyinInitialTable.unifiedFirst...PinyinInitialTable.unifiedLast:
            return Character(Unicode.Scalar(unified[Int(value - PinyinInitialTable.unifiedFirst)]))
        case PinyinInitialTable.extensionAFirst...PinyinInitialTable.extensionALast:
            return Character(Unicode.Scalar(extensionA[Int(value - PinyinInitialTable.extensionAFirst)]))
        default: return other
        }
    }

    // The tables as bytes, decoded once: a String cannot be indexed in constant time.
    private static let unified = Array(PinyinInitialTable.unified.utf8)
    private static let extensionA = Array(PinyinInitialTable.extensionA.utf8)
}
