import ChatScripts
import Foundation
import LuaScripts
import Testing

/// Every script's header (docs/scripts.md) against its contract: the names of the keys
/// and arguments, in order and count, for every operation.
@Suite("Script contracts match the scripts' headers")
struct ScriptContractTests {
    static let contracts: [any ChatScript.Type] = [
        ChangeAskAnswer.self, ChangeComplaint.self, ChangeFriendRequest.self, ChangeFriendship.self, FriendStep.self, ChangeGroup.self, GroupChangeStep.self,
        AcknowledgeOfflineQueue.self, RateLimit.self, DeliverMessage.self, DeliverToMany.self, RecordHeartbeat.self,
        ClaimNodeStream.self, LeaveNodes.self, SendToNode.self, RefreshConnections.self,
        RegisterConnection.self, RegisterUser.self, ReleaseConnection.self, ReturnToQueue.self, RevokeGroupMessage.self,
        ReadOfflineQueue.self, RevokeSessions.self, CheckAuthentication.self, RevokeSingleMessage.self, SendGroupMessage.self, SendSingleMessage.self, UpdateUser.self,
        BeginSingleSend.self, ApplySingleSend.self, FinishSingleSend.self, MarkRevokedCopy.self,
        BeginGroupSend.self, ApplyGroupSend.self, DeliverGroupSend.self, FinishGroupSend.self,
        ChangeAdminAccount.self, ChangeUserByOperator.self, ReplyToComplaint.self, ChangeGroupStatus.self, ChangeDeadLetter.self,
        ClaimUniqueName.self, RegisterUserRows.self, RecordAudit.self,
    ]

    static let luaFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("lua")

    @Test("every script has exactly one contract")
    func everyScriptHasAContract() {
        let names = Self.contracts.map { $0.scriptName }
        #expect(Set(names).count == names.count)
        #expect(Set(names) == Set(LuaScripts.all.map(\.name)))
    }

    @Test("the contract's layout is the header's", arguments: contracts.map { ContractCase($0) })
    func layoutMatchesHeader(_ contract: ContractCase) throws {
        let text = try String(contentsOf: Self.luaFolder.appendingPathComponent("\(contract.name).lua"), encoding: .utf8)
        let header = try Header(parsing: text, script: contract.name)
        let operations = contract.layouts.map(\.operation)
        #expect(Set(operations.compactMap { $0 }) == header.operations, "\(contract.name): operations")
        #expect(Set(operations.map { $0 ?? "" }).count == operations.count, "\(contract.name): one layout per operation")
        for layout in contract.layouts {
            #expect(try header.layout(for: layout.operation) == layout, "\(contract.name)")
        }
    }
}

/// A contract type as a test argument.
struct ContractCase: Sendable, CustomTestStringConvertible {
    let name: String
    let layouts: [ScriptLayout]

    init(_ type: any ChatScript.Type) {
        name = type.scriptName
        layouts = type.layouts
    }

    var testDescription: String { name }
}

/// The key and argument lines of a script's header, each in the section (all
/// operations, or the ones an `@op` line names) it stands in.
struct Header {
    struct Entry {
        let isKey: Bool
        let index: Int
        let isTail: Bool
        let names: [String]
        /// nil: common to every operation.
        let operations: Set<String>?
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    var entries: [Entry] = []
    var operations: Set<String> = []

    init(parsing text: String, script: String) throws {
        var section: Set<String>?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("--") else { break }
            guard line.hasPrefix("-- ") else { continue }
            let body = line.dropFirst(3)
            if body.hasPrefix("@op ") {
                let names = body.dropFirst(4).prefix { $0 != ":" }.split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                section = Set(names)
                operations.formUnion(names)
            } else if body == "@end" {
                section = nil
            } else if let entry = try Self.entry(body, section: section, script: script) {
                entries.append(entry)
            }
        }
    }

    /// `KEYS[3] name: …`, `ARGV[6...] a, b: …`; nil for any other line.
    private static func entry(_ body: Substring, section: Set<String>?, script: String) throws -> Entry? {
        let isKey = body.hasPrefix("KEYS[")
        guard isKey || body.hasPrefix("ARGV[") else { return nil }
        guard let close = body.firstIndex(of: "]"), let colon = body.firstIndex(of: ":"), close < colon else {
            throw Malformed(description: "\(script): malformed header line '\(body)'")
        }
        var position = body[body.index(body.startIndex, offsetBy: 5)..<close]
        let isTail = position.hasSuffix("...")
        if isTail { position = position.dropLast(3) }
        let names = body[body.index(after: close)..<colon].split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let index = Int(position), !names.isEmpty, names.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
            throw Malformed(description: "\(script): malformed header line '\(body)'")
        }
        return Entry(isKey: isKey, index: index, isTail: isTail, names: names, operations: section)
    }

    /// The layout of one operation (nil: a script without operations): the common lines
    /// and those of its sections, numbered 1, 2, … without a gap, a tail last.
    func layout(for operation: String?) throws -> ScriptLayout {
        let lines = entries.filter { entry in
            entry.operations.map { set in operation.map { set.contains($0) } ?? false } ?? true
        }
        let keys = try Self.names(lines.filter(\.isKey), operation: operation)
        let arguments = try Self.names(lines.filter { !$0.isKey }, operation: operation)
        return ScriptLayout(
            operation: operation, keys: keys.fixed, keyTail: keys.tail, arguments: arguments.fixed, argumentTail: arguments.tail
        )
    }

    private static func names(_ lines: [Entry], operation: String?) throws -> (fixed: [String], tail: [String]) {
        let sorted = lines.sorted { $0.index < $1.index }
        var fixed: [String] = []
        var tail: [String] = []
        for line in sorted {
            guard tail.isEmpty, line.index == fixed.count + 1 else {
                throw Malformed(description: "op \(operation ?? "-"): position \(line.index) out of order")
            }
            if line.isTail {
                tail = line.names
            } else {
                guard line.names.count == 1 else { throw Malformed(description: "several names at \(line.index)") }
                fixed.append(line.names[0])
            }
        }
        return (fixed, tail)
    }
}
