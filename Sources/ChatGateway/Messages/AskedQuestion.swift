import Model

/// A text message sent with `options.askanswer` truthy (as JavaScript reads truth: not
/// `false`, `0`, `""` or `null`): the question the recipient's pairs answer automatically.
package struct AskedQuestion: Sendable, Equatable {
    /// What was asked: the message's `data`, or `data.data` when it came wrapped.
    package let text: String
    /// Whether `data` came as `{data, dataType, otherData}`: the answer is sent the same way.
    let isWrapped: Bool

    /// Nil unless the message asks: a `text` message with a text and the option set.
    init?(type: String, data: JSONValue?, options: JSONValue) {
        guard type == "text", let flag = options.objectValue?["askanswer"], Self.isTruthy(flag) else { return nil }
        switch data {
        case .string(let text):
            (self.text, isWrapped) = (text, false)
        case .object(let object):
            guard let text = object["data"]?.stringValue else { return nil }
            (self.text, isWrapped) = (text, true)
        default:
            return nil
        }
        guard !text.isEmpty else { return nil }
    }

    static func isTruthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null, .bool(false), .integer(0), .string(""): false
        case .double(let number): number != 0 && !number.isNaN
        default: true
        }
    }

    /// The answer as the message's `data`, in the shape the question came in.
    package func data(answering answer: String) -> JSONValue {
        isWrapped ? SystemNotice.data(answer) : .string(answer)
    }
}
