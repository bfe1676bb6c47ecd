/// A complaint's `status` and its label (docs/api.md, *Complaints*).
enum ComplaintStatus: Int, CaseIterable, Sendable {
    case waiting = 0, processing = 1, resolved = 2, closed = 3

    var label: String {
        switch self {
        case .waiting: "待处理"
        case .processing: "处理中"
        case .resolved: "已处理"
        case .closed: "已关闭"
        }
    }

    static func label(_ value: Int) -> String { ComplaintStatus(rawValue: value)?.label ?? String(value) }
}
