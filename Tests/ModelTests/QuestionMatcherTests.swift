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
}
