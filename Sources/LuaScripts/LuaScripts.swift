import Foundation

/// The repository's `lua/` scripts, assembled with the `lua/lib/` helpers they include
/// and embedded at build time (see Plugins/EmbedLua and docs/scripts.md): the
/// program runs exactly the bytes of the files it was built from, and never reads the
/// working directory to find them.
public enum LuaScripts {
    /// `(name, bytes)` for every `lua/{name}.lua`, sorted by name.
    public static let all: [(name: String, source: [UInt8])] = EmbeddedLua.base64Sources.map { entry in
        guard let data = Data(base64Encoded: entry.base64) else {
            preconditionFailure("EmbedLua wrote invalid base64 for \(entry.name)")
        }
        return (entry.name, [UInt8](data))
    }

    public static func source(named name: String) -> [UInt8]? {
        all.first { $0.name == name }?.source
    }
}
