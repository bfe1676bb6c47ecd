/// Hash tags that spread an application's partitions evenly over the cluster's slots.
///
/// An application that keeps related keys together (one partition's keys in one slot, so
/// one script may touch them all) wants its partitions spread the way the cluster splits
/// slots among primaries: `redis-cli --cluster create` and every reshard move slot ranges,
/// so a tag whose slot is `k × 16384 / count` lands partition `k` on the primary owning
/// that range, and `count` partitions divide over any number of primaries dividing it.
public enum PartitionTags {
    /// Tag `k` (without braces) is `p{k}`, or `p{k}.{n}` with the smallest `n` (base 36)
    /// whose slot lies in `[k × 16384 / count, (k + 1) × 16384 / count)`: readable (the
    /// partition is in the name) and found in about `count` tries each.
    public static func evenlySpaced(count: Int) -> [String] {
        precondition((1...HashSlot.count).contains(count), "between 1 and 16384 partitions")
        return (0..<count).map { partition in
            let range = (partition * HashSlot.count / count)..<((partition + 1) * HashSlot.count / count)
            var attempt = 0
            while true {
                let tag = attempt == 0 ? "p\(partition)" : "p\(partition).\(String(attempt, radix: 36))"
                if range.contains(Int(HashSlot(key: tag).rawValue)) { return tag }
                attempt += 1
            }
        }
    }
}
