import Foundation

// Usage: EmbedLuaTool OUTPUT.swift SCRIPT.lua...
// Writes a Swift file holding each script's bytes in base64 (exact bytes, no escaping
// questions), keyed by the file name without `.lua`.
let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: EmbedLuaTool OUTPUT SCRIPT...\n".utf8))
    exit(64)
}
var lines = [
    "// Generated from lua/ by the EmbedLua build plugin. Do not edit.",
    "enum EmbeddedLua {",
    "    static let base64Sources: [(name: String, base64: String)] = [",
]
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let data = try Data(contentsOf: url)
    let name = url.deletingPathExtension().lastPathComponent
    lines.append("        (\"\(name)\", \"\(data.base64EncodedString())\"),")
}
lines += ["    ]", "}", ""]
let text = lines.joined(separator: "\n")
if (try? String(contentsOfFile: output, encoding: .utf8)) != text {
    try text.write(toFile: output, atomically: true, encoding: .utf8)
}
