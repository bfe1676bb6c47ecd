import Model
import Testing

/// `QuestionMatcher`: the closest stored question for the Q&A auto replies, with Chinese
/// examples: what counts as the same, as contained, as close, and what does not match.
@Suite("QuestionMatcher")
struct QuestionMatcherTests {
    let matcher = QuestionMatcher()

    func closest(_ question: String, _ asks: [String]) -> Int? {
        matcher.closest(to: question, among: asks.enumerated().map { (id: $0.offset + 1, ask: $0.element) })?.id
    }

    @Test("the same question after normalization scores 1: spaces, punctuation, full-width letters and case do not count")
    func exact() {
        #expect(QuestionMatcher.score("运费多少？", "运费 多少") == 1)
        #expect(QuestionMatcher.score("ＶＩＰ会员怎么开通！", "vip会员，怎么开通") == 1)
        #expect(QuestionMatcher.score("  包邮吗😀", "包邮吗") == 1)
        #expect(QuestionMatcher.score("Ärger", "ärger") == 1)
    }

    @Test("a question containing the ask, or contained in it, scores 0.7 + 0.3 × shorter/longer")
    func substring() {
        let inside = QuestionMatcher.score("请问运费多少钱", "运费多少")
        #expect(abs(inside - (0.7 + 0.3 * 4 / 7)) < 1e-9)
        let around = QuestionMatcher.score("退货", "怎么申请退货")
        #expect(abs(around - (0.7 + 0.3 * 2 / 6)) < 1e-9)
        // one character is no evidence: "好" is in almost everything
        #expect(QuestionMatcher.score("好", "你好吗") == 0)
    }

    @Test("otherwise the Dice coefficient of the character bigrams")
    func bigrams() {
        // 申请 请退 退货 of 5 each: 2·3/10
        #expect(abs(QuestionMatcher.score("怎么申请退货", "如何申请退货") - 0.6) < 1e-9)
        // 发货 of 3 each: 2·1/6, below the threshold
        #expect(abs(QuestionMatcher.score("发货时间", "发货地址") - 1.0 / 3) < 1e-9)
        #expect(QuestionMatcher.score("你好", "再见") == 0)
        #expect(QuestionMatcher.score("", "运费") == 0)
        #expect(QuestionMatcher.score("？！", "运费") == 0)
        // a repeated pair counts as often as both have it
        #expect(abs(QuestionMatcher.score("哈哈哈哈", "哈哈哈呀") - 2.0 * 2 / 6) < 1e-9)
    }

    @Test("closest: exact beats contained beats close; nothing close enough is no match")
    func closestPicks() {
        let asks = ["运费", "运费多少", "多少钱", "怎么申请退货", "发货地址"]
        #expect(closest("运费多少", asks) == 2)
        #expect(closest("运费多少？", asks) == 2)
        #expect(closest("请问运费多少呢", asks) == 2)  // both contained: the longer ask covers more
        #expect(closest("我想问问运费", asks) == 1)
        #expect(closest("如何申请退货", asks) == 4)
        #expect(closest("发货时间", asks) == nil)
        #expect(closest("今天天气怎么样", asks) == nil)
        #expect(closest("", asks) == nil)
        #expect(closest("运费", []) == nil)
    }

    @Test("ties go to the lowest id; the threshold is configurable")
    func tiesAndThreshold() {
        #expect(closest("运费多少", ["包邮吗", "运费多少", "运费多少！"]) == 2)
        let pairs = [(id: 9, ask: "运费多少"), (id: 3, ask: "运费多少")]
        #expect(matcher.closest(to: "运费多少", among: pairs)?.id == 3)
        #expect(QuestionMatcher(threshold: 0.3).closest(to: "发货时间", among: [(id: 1, ask: "发货地址")])?.id == 1)
        #expect(QuestionMatcher(threshold: 0.7).closest(to: "怎么申请退货", among: [(id: 1, ask: "如何申请退货")]) == nil)
    }

    @Test("contains: after normalization, and an empty part is nowhere")
    func contains() {
        #expect(QuestionMatcher.contains("我们的运费是10元", "运费"))
        #expect(QuestionMatcher.contains("VIP 会员", "ｖｉｐ会员"))
        #expect(!QuestionMatcher.contains("运费", "包邮"))
        #expect(!QuestionMatcher.contains("运费", "？"))
    }

    @Test("the same scores and matches as the quadratic algorithm it replaced, on random texts")
    func equivalence() {
        // A small alphabet makes repeats, shared bigrams and substrings common.
        let alphabet = Array("运费多少钱包邮吗申请退货哈呀aAｂB1？ ，")
        var generator = SeededGenerator(seed: 17)
        func text(_ maximum: Int) -> String {
            String((0..<Int.random(in: 0...maximum, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        for _ in 0..<3000 {
            let (lhs, rhs) = (text(12), text(12))
            #expect(QuestionMatcher.score(lhs, rhs) == ReferenceMatcher.score(lhs, rhs), "\(lhs) | \(rhs)")
            #expect(QuestionMatcher.contains(lhs, rhs) == ReferenceMatcher.contains(lhs, rhs), "\(lhs) | \(rhs)")
        }
        for _ in 0..<300 {
            let question = text(15)
            let asks = (0..<Int.random(in: 0...6, using: &generator)).map { (id: $0 % 3 == 0 ? 5 - $0 : $0, ask: text(10)) }
            let found = matcher.closest(to: question, among: asks)
            let expected = ReferenceMatcher.closest(to: question, among: asks, threshold: matcher.threshold)
            #expect(found?.id == expected?.id && found?.score == expected?.score, "\(question) among \(asks)")
        }
    }

    @Test("linear: a 300 KB question against long asks finishes quickly; a question over the bound matches nothing")
    func largeInput() {
        // The old algorithm's worst case: a long run of one character against a long ask
        // that almost matches it everywhere (each start compares the whole ask).
        // (about 2·10^9 comparisons for the old substring search; 2·30 000 / 130 001 as Dice)
        let question = String(repeating: "哈", count: 100_000) + "呀"
        let asks = [(id: 2, ask: String(repeating: "哈", count: 1000) + "啊"), (id: 1, ask: String(repeating: "哈", count: 30_000) + "呀哈")]
        let clock = ContinuousClock()
        var match: QuestionMatcher.Match<Int>?
        let elapsed = clock.measure { match = matcher.closest(to: question, among: asks) }
        #expect(elapsed < .seconds(2), "took \(elapsed)")
        #expect(match?.id == 1 && abs((match?.score ?? 0) - 60_000.0 / 130_001) < 1e-12)
        #expect(QuestionMatcher(maximumLength: 100_001).closest(to: question, among: asks)?.id == 1)
        #expect(QuestionMatcher(maximumLength: 100_000).closest(to: question, among: asks) == nil)
        #expect(QuestionMatcher(maximumLength: 4).closest(to: "运费多少", among: [(id: 1, ask: "运费多少")])?.id == 1)
        #expect(QuestionMatcher(maximumLength: 3).closest(to: "运费多少", among: [(id: 1, ask: "运费多少")]) == nil)
    }
}

/// A deterministic generator (SplitMix64), so a failure can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The algorithm before issue 17, kept as the reference: normalization as now, a naive
/// substring search and sorted bigram arrays (quadratic in the worst case).
enum ReferenceMatcher {
    static func normalized(_ text: String) -> [UInt32] {
        var scalars: [UInt32] = []
        for scalar in text.unicodeScalars {
            var value = scalar.value
            if (0xFF01...0xFF5E).contains(value) { value -= 0xFEE0 }
            guard let folded = Unicode.Scalar(value) else { continue }
            switch folded.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark:
                break
            default:
                continue
            }
            if (0x41...0x5A).contains(value) {
                value += 0x20
            } else if value > 0x7F, folded.properties.changesWhenLowercased {
                let lower = folded.properties.lowercaseMapping.unicodeScalars
                if lower.count == 1, let only = lower.first { value = only.value }
            }
            scalars.append(value)
        }
        return scalars
    }

    static func naiveContains(_ whole: [UInt32], _ part: [UInt32]) -> Bool {
        guard !part.isEmpty, part.count <= whole.count else { return part.isEmpty }
        for start in 0...(whole.count - part.count) where whole[start] == part[0] {
            if whole[start..<(start + part.count)].elementsEqual(part) { return true }
        }
        return false
    }

    static func bigrams(_ scalars: [UInt32]) -> [UInt64] {
        guard scalars.count > 1 else { return scalars.map(UInt64.init) }
        return (1..<scalars.count).map { 1 << 63 | UInt64(scalars[$0 - 1]) << 21 | UInt64(scalars[$0]) }.sorted()
    }

    static func dice(_ a: [UInt64], _ b: [UInt64]) -> Double {
        guard !a.isEmpty || !b.isEmpty else { return 0 }
        var (i, j, common) = (0, 0, 0)
        while i < a.count, j < b.count {
            if a[i] == b[j] {
                common += 1
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return 2 * Double(common) / Double(a.count + b.count)
    }

    static func score(_ lhs: String, _ rhs: String) -> Double {
        let (a, b) = (normalized(lhs), normalized(rhs))
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        if a == b { return 1 }
        let (shorter, longer) = a.count <= b.count ? (a, b) : (b, a)
        if shorter.count >= 2, naiveContains(longer, shorter) {
            return 0.7 + 0.3 * Double(shorter.count) / Double(longer.count)
        }
        return dice(bigrams(a), bigrams(b))
    }

    static func contains(_ text: String, _ part: String) -> Bool {
        let needle = normalized(part)
        return !needle.isEmpty && naiveContains(normalized(text), needle)
    }

    static func closest(to question: String, among candidates: [(id: Int, ask: String)], threshold: Double) -> (id: Int, score: Double)? {
        var best: (id: Int, score: Double)?
        for candidate in candidates {
            let score = score(question, candidate.ask)
            guard score >= threshold else { continue }
            if let current = best, current.score > score || (current.score == score && current.id < candidate.id) { continue }
            best = (candidate.id, score)
        }
        return best
    }
}
