import Foundation

// Usage: EmbedLuaTool OUTPUT.swift LIBRARY-FOLDER SCRIPT.lua...
// Writes a Swift file holding each script's bytes in base64 (exact bytes, no escaping
// questions), keyed by the file name without `.lua`. Each line `--@include NAME` is
// replaced by LIBRARY-FOLDER/NAME.lua, itself assembled the same way; a helper that a
// script includes twice (directly or through another helper) is put in once, where it
// is first included. See docs/scripts.md.
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: EmbedLuaTool OUTPUT LIBRARY SCRIPT...\n".utf8))
    exit(64)
}
let output = arguments[0]
let library = URL(fileURLWithPath: arguments[1])
let directive = "--@include "

struct AssemblyError: Error, CustomStringConvertible {
    let description: String
}

/// `text` with its include lines replaced; `included` holds the helpers already put in.
func assemble(_ text: String, from file: String, included: inout Set<String>) throws -> String {
    var lines: [String] = []
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        guard line.hasPrefix(directive) else {
            lines.append(String(line))
            continue
        }
        let name = line.dropFirst(directive.count).trimmingCharacters(in: .whitespaces)
        guard included.insert(name).inserted else { continue }
        let url = library.appendingPathComponent("\(name).lua")
        guard let helper = try? String(contentsOf: url, encoding: .utf8) else {
            throw AssemblyError(description: "\(file):\(number + 1): no helper lua/lib/\(name).lua to include")
        }
        var body = try assemble(helper, from: "lua/lib/\(name).lua", included: &included)
        if body.hasSuffix("\n") { body.removeLast() }
        lines.append(body)
    }
    return lines.joined(separator: "\n")
}

var lines = [
    "// Generated from lua/ by the EmbedLua build plugin. Do not edit.",
    "enum EmbeddedLua {",
    "    static let base64Sources: [(name: String, base64: String)] = [",
]
do {
    for path in arguments.dropFirst(2) {
        let url = URL(fileURLWithPath: path)
        let name = url.deletingPathExtension().lastPathComponent
        var included = Set<String>()
        let source = try assemble(
            try String(contentsOf: url, encoding: .utf8), from: "lua/\(url.lastPathComponent)", included: &included
        )
        lines.append("        (\"\(name)\", \"\(Data(source.utf8).base64EncodedString())\"),")
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
lines += ["    ]", "}", ""]
let text = lines.joined(separator: "\n")
if (try? String(contentsOfFile: output, encoding: .utf8)) != text {
    try text.write(toFile: output, atomically: true, encoding: .utf8)
}
