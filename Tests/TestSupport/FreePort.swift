import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports for the test's servers, below the kernel's ephemeral range
/// (`ip_local_port_range`, 32768–60999 by default): a port from that range (what `bind` to
/// port 0 gives) can be taken as the local port of one of the thousands of connections the
/// suites open between being found free and being bound by the server (seen: a bridge's
/// `Address already in use`, a test talking to another test's Redis). Below it only
/// servers bind, and each port is handed out once per run of the tests.
public enum FreePort {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cursor = 0
    /// The second ports of pairs (``nextPair(offset:)``): never handed out again.
    nonisolated(unsafe) private static var reserved: Set<Int> = []
    private static let range: Range<Int> = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        return 10_000..<max(10_001, min(low, 65_536))
    }()

    public static func next() throws -> Int {
        try lock.withLock {
            if cursor == 0 { cursor = Int.random(in: range) }
            for _ in 0..<range.count {
                let port = cursor
                cursor = cursor + 1 < range.upperBound ? cursor + 1 : range.lowerBound
                if !reserved.contains(port), canBind(port) { return port }
            }
            throw TestEnvironment.Missing(description: "no free loopback port in \(range)")
        }
    }

    /// A port whose `port + offset` is free too, both below the ephemeral range: a Redis
    /// Cluster node listens on its port and on port + 10000 for the cluster bus.
    public static func nextPair(offset: Int) throws -> Int {
        try lock.withLock {
            let firsts = range.lowerBound..<(range.upperBound - offset)
            guard !firsts.isEmpty else { throw TestEnvironment.Missing(description: "no port pairs \(offset) apart in \(range)") }
            if cursor == 0 { cursor = Int.random(in: range) }
            for _ in 0..<range.count {
                let port = cursor
                cursor = cursor + 1 < range.upperBound ? cursor + 1 : range.lowerBound
                guard firsts.contains(port), !reserved.contains(port), !reserved.contains(port + offset) else { continue }
                if canBind(port), canBind(port + offset) {
                    reserved.insert(port + offset)
                    return port
                }
            }
            throw TestEnvironment.Missing(description: "no free loopback port pair \(offset) apart in \(range)")
        }
    }

    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    public static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
