import Synchronization

/// How many entries the next stream read may ask for, so that a batch stops at
/// `--batch-bytes` as well as at `--batch-size` (docs/architecture.md, *Persister memory*).
///
/// Redis cannot cap a read by bytes, so reads are sized by the largest entry seen lately:
/// each asks for as many entries as fit the bytes left if every one were that large, and
/// the batch ends when not one more fits (an empty batch still takes one entry, however
/// large). A batch thus stays within the budget while the estimate holds; it can go over
/// when entries are larger than any seen lately, or when several streams answer a read in
/// full (up to three times the entries asked for), so at worst by about twice the budget.
/// The estimate starts at `initialEstimate`, follows any larger entry at once and decays
/// by a sixteenth per read towards smaller ones, so a run of big entries is read a few
/// at a time and a backlog of small ones in one read per batch.
final class BatchBudget: Sendable {
    static let initialEstimate = 64 * 1024
    static let smallestEstimate = 256

    /// The most entries per stream in one batch (`--batch-size`).
    let entries: Int
    /// The bytes of entries (field names and values) at which a batch stops (`--batch-bytes`).
    let bytes: Int
    private let largest = Mutex<Int>(BatchBudget.initialEstimate)

    init(entries: Int, bytes: Int) {
        self.entries = entries
        self.bytes = bytes
    }

    /// Entries per stream the next read may ask for, with `count` entries of `used` bytes
    /// in the batch already; 0: the batch is full.
    func nextRead(count: Int, used: Int) -> Int {
        let (entriesLeft, bytesLeft) = (entries - count, bytes - used)
        guard entriesLeft > 0, bytesLeft > 0 else { return 0 }
        let estimate = largest.withLock { $0 }
        return min(entriesLeft, max(count == 0 ? 1 : 0, bytesLeft / estimate))
    }

    /// Learns the sizes of what a read returned.
    func observe(_ read: [StreamEntry]) {
        let biggest = read.lazy.map(\.byteCount).max() ?? 0
        largest.withLock { $0 = max(biggest, $0 - $0 / 16, Self.smallestEstimate) }
    }
}
