import Foundation
@testable import RedisClient
import TestSupport
import Testing

/// `PartitionTags.evenlySpaced(count:)`: partition k's tag hashes into the k-th of `count`
/// equal slot ranges, so that the ranges `redis-cli --cluster create` hands the primaries
/// hold the same number of partitions each.
@Suite("Partition tags", .serialized, .offCooperativePool)
struct PartitionTagsTests {
    static func range(of partition: Int, count: Int) -> Range<Int> {
        (partition * HashSlot.count / count)..<((partition + 1) * HashSlot.count / count)
    }

    @Test("each tag's slot is in its partition's range; tags distinct, readable and stable",
          arguments: [1, 2, 3, 4, 5, 6, 7, 12, 16, 100, 1024])
    func slotsInRange(count: Int) {
        let tags = PartitionTags.evenlySpaced(count: count)
        #expect(tags.count == count)
        #expect(Set(tags).count == count)
        for (partition, tag) in tags.enumerated() {
            #expect(Self.range(of: partition, count: count).contains(Int(HashSlot(key: tag).rawValue)), "\(partition): \(tag)")
            #expect(tag == "p\(partition)" || tag.hasPrefix("p\(partition)."), "\(tag)")
            // A key carrying the tag is on the tag's slot, whatever comes before it.
            #expect(HashSlot(key: "chat:user:\(partition){\(tag)}") == HashSlot(key: tag))
        }
        #expect(PartitionTags.evenlySpaced(count: count) == tags, "the same tags every time: they name stored keys")
    }

    @Test("12 partitions: the tags a deployment's keys carry")
    func twelve() {
        let tags = PartitionTags.evenlySpaced(count: 12)
        let slots = tags.map { Int(HashSlot(key: $0).rawValue) }
        #expect(slots == slots.sorted(), "in slot order")
        for (partition, slot) in slots.enumerated() {
            #expect(slot >= partition * 16384 / 12 && slot < (partition + 1) * 16384 / 12)
        }
    }

    @Test("on a real cluster: CLUSTER KEYSLOT agrees, and 12 partitions split 4/4/4 over the three primaries of --cluster create",
          .timeLimit(.minutes(2)))
    func onACluster() async throws {
        let cluster = try RedisClusterProcess()
        let tags = PartitionTags.evenlySpaced(count: 12)
        let port = cluster.ports[0]
        var primaryOf: [Int] = []
        for (partition, tag) in tags.enumerated() {
            let slot = try #require(Int(try cluster.send(port, ["CLUSTER", "KEYSLOT", tag])))
            #expect(slot == Int(HashSlot(key: tag).rawValue), "\(tag)")
            #expect(Self.range(of: partition, count: 12).contains(slot), "\(tag): slot \(slot)")
            // A key of the partition as the layout names it: the same slot.
            #expect(try cluster.send(port, ["CLUSTER", "KEYSLOT", "chatlog:chatlog_12_single_24{\(tag)}"]) == "\(slot)")
            primaryOf.append(try cluster.primary(ofSlot: slot))
        }
        let primaries = try cluster.roles().primaries
        #expect(primaries.count == 3)
        let perPrimary = Dictionary(grouping: primaryOf, by: { $0 }).mapValues(\.count)
        #expect(perPrimary.keys.sorted() == primaries)
        #expect(perPrimary.values.sorted() == [4, 4, 4], "\(perPrimary)")
        // Contiguous: partitions 0-3, 4-7 and 8-11 each on one primary (the slot ranges of
        // --cluster create are contiguous too).
        for block in 0..<3 {
            #expect(Set(primaryOf[(block * 4)..<(block * 4 + 4)]).count == 1, "\(primaryOf)")
        }
    }
}
