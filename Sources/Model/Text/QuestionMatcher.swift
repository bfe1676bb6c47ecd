/// Finds the stored question ("ask") closest to a question someone typed, for the
/// question-and-answer auto replies (docs/api.md, *Complaints and Q&A*). Written for Chinese text, where
/// words are not separated by spaces: it compares characters and pairs of adjacent
/// characters (bigrams), not words.
///
/// Both texts are normalized first: full-width ASCII becomes ASCII (`？` → `?`, `Ａ` →
/// `a`), letters are lower-cased, and everything but letters, digits and marks (spaces,
/// punctuation, symbols, emoji) is dropped. Then, in order of preference:
/// - **exact**: equal normalized texts score 1;
/// - **substring**: when the shorter one (at least 2 characters) occurs in the longer,
///   the score is `0.7 + 0.3 × shorter/longer` (0.7 up to 1): "运费多少" in "请问运费多少钱";
/// - otherwise the **Dice coefficient of the character bigrams** (as multisets),
///   `2 |A ∩ B| / (|A| + |B|)`; a one-character text is its one character.
///
/// A candidate matches when its score reaches `threshold` (0.4 by default: "怎么申请退货"
/// and "如何申请退货" share 3 of 5 bigrams, 0.6; "发货时间" and "发货地址" only one of 3,
/// 0.33, and do not match). The best match has the highest score; ties go to the
/// lowest id (the oldest pair).
///
/// Linear in its inputs (docs/architecture.md, *CPU bounds*): the substring test is a
/// Knuth–Morris–Pratt search and the bigrams are counted in a hash table, so a text of
/// n characters costs O(n), and a question is normalized and counted once for all the
/// candidates. On top of that `closest` takes a bounded question: one longer than
/// `maximumLength` characters matches nothing.
public struct QuestionMatcher: Sendable {
    /// The lowest score that counts as a match.
    public var threshold: Double
    /// The longest question (in Unicode scalars, before normalization) `closest` compares;
    /// a longer one matches nothing. The caller passes its size limit.
    public var maximumLength: Int

    public init(threshold: Double = 0.4, maximumLength: Int = .max) {
        self.threshold = threshold
        self.maximumLength = maximumLength
    }

    /// A candidate that matched, with its score.
    public struct Match<ID: Sendable & Comparable>: Sendable {
        public let id: ID
        public let score: Double
    }

    /// The best-scoring candidate at or above the threshold; nil when none is close enough.
    public func closest<ID: Sendable & Comparable>(to question: String, among candidates: [(id: ID, ask: String)]) -> Match<ID>? {
        guard !candidates.isEmpty, question.unicodeScalars.count <= maximumLength else { return nil }
        var normalized = Normalized(question)
        normalized.countBigrams()
        var best: Match<ID>?
        for candidate in candidates {
            let score = normalized.score(against: Normalized(candidate.ask))
            guard score >= threshold else { continue }
            if let current = best, current.score > score || (current.score == score && current.id < candidate.id) { continue }
            best = Match(id: candidate.id, score: score)
        }
        return best
    }

    /// The similarity of two texts, from 0 (nothing in common) to 1 (the same after
    /// normalization).
    public static func score(_ lhs: String, _ rhs: String) -> Double {
        Normalized(lhs).score(against: Normalized(rhs))
    }

    /// Whether `text` contains `part` after normalization (an empty `part` is nowhere):
    /// the keyword test of `askanswer/search`.
    public static func contains(_ text: String, _ part: String) -> Bool {
        let needle = Normalized(part).scalars
        return !needle.isEmpty && Normalized(text).scalars.contains(subsequence: needle)
    }

    /// A text reduced to what is compared: its letters, digits and marks.
    struct Normalized {
        let scalars: [UInt32]
        /// Its bigrams with their counts, once `countBigrams()` ran (the question, which is
        /// compared with every candidate).
        private var counted: [UInt64: Int]?

        init(_ text: String) {
            var scalars: [UInt32] = []
            scalars.reserveCapacity(text.unicodeScalars.count)
            for scalar in text.unicodeScalars {
                var value = scalar.value
                // Full-width ASCII variants (U+FF01…U+FF5E) are the ASCII characters.
                if (0xFF01...0xFF5E).contains(value) { value -= 0xFEE0 }
                guard let folded = Unicode.Scalar(value), Self.isKept(folded) else { continue }
                if (0x41...0x5A).contains(value) {
                    value += 0x20
                } else if value > 0x7F, folded.properties.changesWhenLowercased {
                    let lower = folded.properties.lowercaseMapping.unicodeScalars
                    if lower.count == 1, let only = lower.first { value = only.value }
                }
                scalars.append(value)
            }
            self.scalars = scalars
        }

        private static func isKept(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark:
                true
            default:
                false
            }
        }

        mutating func countBigrams() {
            counted = bigramCounts()
        }

        func score(against other: Normalized) -> Double {
            let (a, b) = (scalars, other.scalars)
            guard !a.isEmpty, !b.isEmpty else { return 0 }
            if a == b { return 1 }
            let (shorter, longer) = a.count <= b.count ? (a, b) : (b, a)
            if shorter.count >= 2, longer.contains(subsequence: shorter) {
                return 0.7 + 0.3 * Double(shorter.count) / Double(longer.count)
            }
            return Self.dice(counted ?? bigramCounts(), a.count, other.scalars)
        }

        /// The number of bigrams of a text of `count` characters (a one-character text: its
        /// character alone).
        private static func bigramCount(_ count: Int) -> Int { count > 1 ? count - 1 : count }

        /// The bigram (or lone character) at `index` of a text: scalars fit in 21 bits, and
        /// the 1 << 63 keeps pairs apart from single characters.
        private static func bigram(_ scalars: [UInt32], _ index: Int) -> UInt64 {
            scalars.count > 1 ? 1 << 63 | UInt64(scalars[index]) << 21 | UInt64(scalars[index + 1]) : UInt64(scalars[index])
        }

        private func bigramCounts() -> [UInt64: Int] {
            var counts: [UInt64: Int] = [:]
            let total = Self.bigramCount(scalars.count)
            counts.reserveCapacity(total)
            for index in 0..<total { counts[Self.bigram(scalars, index), default: 0] += 1 }
            return counts
        }

        /// `2 |A ∩ B| / (|A| + |B|)` of two multisets: A counted (of a text of `countA`
        /// characters), B the bigrams of `b`, each taken from A's counts at most as often
        /// as A has it.
        private static func dice(_ a: [UInt64: Int], _ countA: Int, _ b: [UInt32]) -> Double {
            let (sizeA, sizeB) = (bigramCount(countA), bigramCount(b.count))
            guard sizeA + sizeB > 0 else { return 0 }
            var remaining = a
            var common = 0
            for index in 0..<sizeB {
                let pair = bigram(b, index)
                if let left = remaining[pair], left > 0 {
                    remaining[pair] = left - 1
                    common += 1
                }
            }
            return 2 * Double(common) / Double(sizeA + sizeB)
        }
    }
}

extension Array where Element: Equatable {
    /// Whether `part` occurs in this array as a contiguous run: Knuth–Morris–Pratt, linear
    /// in both lengths.
    fileprivate func contains(subsequence part: [Element]) -> Bool {
        guard !part.isEmpty, part.count <= count else { return part.isEmpty }
        // failure[i]: the length of the longest proper border of part[0...i].
        var failure = [Int](repeating: 0, count: part.count)
        var border = 0
        for index in 1..<part.count {
            while border > 0, part[index] != part[border] { border = failure[border - 1] }
            if part[index] == part[border] { border += 1 }
            failure[index] = border
        }
        var matched = 0
        for element in self {
            while matched > 0, element != part[matched] { matched = failure[matched - 1] }
            if element == part[matched] { matched += 1 }
            if matched == part.count { return true }
        }
        return false
    }
}
