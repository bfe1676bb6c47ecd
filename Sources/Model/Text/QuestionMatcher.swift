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
public struct QuestionMatcher: Sendable {
    /// The lowest score that counts as a match.
    public var threshold: Double

    public init(threshold: Double = 0.4) {
        self.threshold = threshold
    }

    /// A candidate that matched, with its score.
    public struct Match<ID: Sendable & Comparable>: Sendable {
        public let id: ID
        public let score: Double
    }

    /// The best-scoring candidate at or above the threshold; nil when none is close enough.
    public func closest<ID: Sendable & Comparable>(to question: String, among candidates: [(id: ID, ask: String)]) -> Match<ID>? {
        let normalized = Normalized(question)
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

        func score(against other: Normalized) -> Double {
            let (a, b) = (scalars, other.scalars)
            guard !a.isEmpty, !b.isEmpty else { return 0 }
            if a == b { return 1 }
            let (shorter, longer) = a.count <= b.count ? (a, b) : (b, a)
            if shorter.count >= 2, longer.contains(subsequence: shorter) {
                return 0.7 + 0.3 * Double(shorter.count) / Double(longer.count)
            }
            return Self.dice(bigrams(), other.bigrams())
        }

        /// The adjacent pairs, sorted (a one-character text: its character alone).
        func bigrams() -> [UInt64] {
            guard scalars.count > 1 else { return scalars.map(UInt64.init) }
            var pairs: [UInt64] = []
            pairs.reserveCapacity(scalars.count - 1)
            for index in 1..<scalars.count {
                // Scalars fit in 21 bits; the 1 << 63 keeps pairs apart from single characters.
                pairs.append(1 << 63 | UInt64(scalars[index - 1]) << 21 | UInt64(scalars[index]))
            }
            return pairs.sorted()
        }

        /// `2 |A ∩ B| / (|A| + |B|)` of two sorted multisets.
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
    }
}

extension Array where Element: Equatable {
    /// Whether `part` occurs in this array as a contiguous run.
    fileprivate func contains(subsequence part: [Element]) -> Bool {
        guard !part.isEmpty, part.count <= count else { return part.isEmpty }
        for start in 0...(count - part.count) where self[start] == part[0] {
            if self[start..<(start + part.count)].elementsEqual(part) { return true }
        }
        return false
    }
}
