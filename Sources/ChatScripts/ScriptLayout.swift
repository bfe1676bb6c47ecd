/// The names of a script's keys and arguments, in order, as its header lists them
/// (docs/scripts.md): the fixed ones, then a tail whose names repeat to the end (a pair
/// per recipient, say). A test holds every contract's layouts against its script's header.
public struct ScriptLayout: Sendable, Equatable, CustomStringConvertible {
    /// The operation (`ARGV[1] op`) this layout is for; nil for a script without operations.
    public var operation: String?
    public var keys: [String]
    public var keyTail: [String]
    public var arguments: [String]
    public var argumentTail: [String]

    public init(
        operation: String? = nil, keys: [String], keyTail: [String] = [], arguments: [String], argumentTail: [String] = []
    ) {
        self.operation = operation
        self.keys = keys
        self.keyTail = keyTail
        self.arguments = arguments
        self.argumentTail = argumentTail
    }

    public var description: String {
        "\(operation.map { "op \($0): " } ?? "")KEYS \(keys) + \(keyTail)…, ARGV \(arguments) + \(argumentTail)…"
    }
}
