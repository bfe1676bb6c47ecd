import Foundation
import PackagePlugin

/// Embeds every `lua/*.lua` script of the package into the target at build time, each
/// assembled with the `lua/lib/*.lua` helpers it includes (docs/scripts.md), so the
/// programs run exactly the repository's scripts whatever their working directory.
@main
struct EmbedLua: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "lua")
        let library = folder.appending(path: "lib")
        let scripts = try luaFiles(in: folder)
        let helpers = try luaFiles(in: library)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedLua.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(scripts.count) Lua scripts",
                executable: try context.tool(named: "EmbedLuaTool").url,
                arguments: [output.path, library.path] + scripts.map(\.path),
                inputFiles: scripts + helpers,
                outputFiles: [output]
            )
        ]
    }

    private func luaFiles(in folder: URL) throws -> [URL] {
        try FileManager.default
            .contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "lua" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
