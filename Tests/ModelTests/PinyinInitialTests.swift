import Model
import Testing

@Suite("Pinyin initials of friend names")
struct PinyinInitialTests {
    @Test("Chinese names: the initial of the most common reading")
    func chinese() {
        let cases: [(String, Character)] = [
            ("张三", "Z"), ("李", "L"), ("王", "W"), ("阿", "A"), ("欧阳", "O"), ("赵", "Z"), ("钱", "Q"),
            // pypinyin's default readings of characters with several.
            ("重", "Z"), ("长", "Z"), ("行", "X"), ("曾", "C"), ("单", "D"),
            // Extension A.
            ("\u{3400}", "Q"),
        ]
        for (name, letter) in cases {
            #expect(PinyinInitial.of(name) == letter, "\(name)")
        }
    }

    @Test("Latin letters upper-cased, full-width ones too; everything else is #")
    func others() {
        let cases: [(String, Character)] = [
            ("bob", "B"), ("Alice", "A"), ("zed", "Z"), ("Ｂｏｂ", "B"), ("ｚ", "Z"),
            ("", "#"), ("9", "#"), ("123", "#"), ("😀", "#"), ("😀张", "#"), (" 张", "#"), ("_a", "#"),
            ("É", "#"), ("Ω", "#"), ("〇", "#"),
            // An ideograph beyond the two blocks (Extension B).
            ("\u{20000}", "#"),
        ]
        for (name, letter) in cases {
            #expect(PinyinInitial.of(name) == letter, "\(name)")
        }
    }

    @Test("every code point of both blocks maps to A–Z or #")
    func tableCoverage() {
        var letters = 0
        let scalars = (UInt32(0x3400)...0x9FFF).filter { !(0x4DC0...0x4DFF).contains($0) }.compactMap { Unicode.Scalar($0) }
        #expect(scalars.count == 0x4DC0 - 0x3400 + 0xA000 - 0x4E00)
        for scalar in scalars {
            let initial = PinyinInitial.of(scalar)
            #expect(initial == "#" || ("A"..."Z").contains(initial), "U+\(String(scalar.value, radix: 16))")
            if initial != "#" { letters += 1 }
        }
        // pypinyin knows nearly all of them.
        #expect(letters > 26_000)
    }
}
