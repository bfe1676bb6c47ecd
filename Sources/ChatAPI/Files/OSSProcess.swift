/// The part of Aliyun OSS's `x-oss-process` query the bridge serves for stored files
/// (docs/api.md, *GET /public/uploads/** with x-oss-process*): one `video/snapshot` or one
/// `image/resize` operation, each parameter `{name}_{value}`, comma-separated. The deployed
/// client builds a video's cover as `{video url}?x-oss-process=video/snapshot,t_20,m_fast,w_260,f_png`.
/// Anything outside the subset is refused rather than ignored: an ignored parameter would
/// answer an image the client did not ask for.
enum OSSProcess: Sendable, Equatable {
    case snapshot(Snapshot)
    case resize(Resize)

    /// `video/snapshot`: one frame, as OSS takes it.
    struct Snapshot: Sendable, Equatable {
        /// `t`: the time in ms (default 0).
        var milliseconds: Int64 = 0
        /// `m_fast`: the nearest keyframe at or before `t` (no decoding up to `t`).
        var fast = false
        /// `w`, `h`: pixels; 0 = in proportion to the other (both 0: the video's own size).
        var width = 0
        var height = 0
        /// `f`: `jpg` (the default) or `png`.
        var format = VideoScreenshotter.Format.jpg
    }

    /// `image/resize`: OSS's common modes.
    struct Resize: Sendable, Equatable {
        enum Mode: String, Sendable, CaseIterable {
            /// Within w×h, in proportion (the default).
            case lfit
            /// Covering w×h, in proportion.
            case mfit
            /// Covering w×h, then the middle cut to w×h.
            case fill
            /// Within w×h, then padded with white to w×h.
            case pad
            /// Exactly w×h.
            case fixed
        }

        var width: Int?
        var height: Int?
        var mode = Mode.lfit
        /// `limit_1` (the default): never larger than the original.
        var limit = true
    }

    /// Why a request is not served; `text` goes in `fail(text)`.
    struct Refusal: Error, Equatable {
        let text: String
    }

    static let parameterName = "x-oss-process"
    /// Largest snapshot side (as `getVideoScreenshot`'s width).
    static let maximumSnapshotSide = 3840
    /// Largest resized side.
    static let maximumResizeSide = 4096
    /// Later than this (about 11 days of video) is no time point of a chat video.
    static let latestMilliseconds: Int64 = 1_000_000_000
    /// Longer values are refused unread.
    static let maximumLength = 200

    static let unsupported = Refusal(text: "不支持的处理参数，仅支持video/snapshot和image/resize")

    init(parsing value: Substring) throws(Refusal) {
        guard value.utf8.count <= Self.maximumLength else { throw Self.unsupported }
        var parts = value.split(separator: ",", omittingEmptySubsequences: false)
        let operation = parts.isEmpty ? "" : parts.removeFirst()
        var seen: Set<Substring> = []
        var parameters: [(name: Substring, value: Substring)] = []
        for part in parts {
            guard let underscore = part.firstIndex(of: "_"), underscore != part.startIndex else {
                throw Refusal(text: "处理参数格式错误: \(part.prefix(20))")
            }
            let name = part[..<underscore]
            guard seen.insert(name).inserted else { throw Refusal(text: "处理参数\(name)重复") }
            parameters.append((name, part[part.index(after: underscore)...]))
        }
        switch operation {
        case "video/snapshot": self = .snapshot(try Self.snapshot(parameters))
        case "image/resize": self = .resize(try Self.resize(parameters))
        default: throw Self.unsupported
        }
    }

    private static func snapshot(_ parameters: [(name: Substring, value: Substring)]) throws(Refusal) -> Snapshot {
        var snapshot = Snapshot()
        for (name, value) in parameters {
            switch name {
            case "t":
                guard let time = Int64(value), (0...latestMilliseconds).contains(time) else { throw Refusal(text: "参数t应为不小于0的毫秒数") }
                snapshot.milliseconds = time
            case "m":
                guard value == "fast" else { throw Refusal(text: "参数m的值只能是fast") }
                snapshot.fast = true
            case "w", "h":
                guard let pixels = Int(value), (0...maximumSnapshotSide).contains(pixels) else {
                    throw Refusal(text: "参数\(name)应在0-\(maximumSnapshotSide)之间")
                }
                if name == "w" { snapshot.width = pixels } else { snapshot.height = pixels }
            case "f":
                guard let format = VideoScreenshotter.Format(rawValue: String(value)) else { throw Refusal(text: "参数f的值只能是jpg、png") }
                snapshot.format = format
            default:
                throw Refusal(text: "不支持的处理参数\(name.prefix(20))")
            }
        }
        return snapshot
    }

    private static func resize(_ parameters: [(name: Substring, value: Substring)]) throws(Refusal) -> Resize {
        var resize = Resize()
        for (name, value) in parameters {
            switch name {
            case "w", "h":
                guard let pixels = Int(value), (1...maximumResizeSide).contains(pixels) else {
                    throw Refusal(text: "参数\(name)应在1-\(maximumResizeSide)之间")
                }
                if name == "w" { resize.width = pixels } else { resize.height = pixels }
            case "m":
                guard let mode = Resize.Mode(rawValue: String(value)) else {
                    throw Refusal(text: "参数m的值只能是" + Resize.Mode.allCases.map(\.rawValue).joined(separator: "、"))
                }
                resize.mode = mode
            case "limit":
                guard value == "0" || value == "1" else { throw Refusal(text: "参数limit的值只能是0、1") }
                resize.limit = value == "1"
            default:
                throw Refusal(text: "不支持的处理参数\(name.prefix(20))")
            }
        }
        switch resize.mode {
        case .lfit, .mfit:
            guard resize.width != nil || resize.height != nil else { throw Refusal(text: "参数w和h不能都为空") }
        case .fill, .pad, .fixed:
            guard resize.width != nil, resize.height != nil else { throw Refusal(text: "参数m为\(resize.mode.rawValue)时须同时指定w和h") }
        }
        return resize
    }

    /// The same image always has the same text (defaults written out): the cache key.
    var canonical: String {
        switch self {
        case .snapshot(let s):
            "video/snapshot,t_\(s.milliseconds),m_\(s.fast ? "fast" : "exact"),w_\(s.width),h_\(s.height),f_\(s.format.rawValue)"
        case .resize(let r):
            "image/resize,w_\(r.width ?? 0),h_\(r.height ?? 0),m_\(r.mode.rawValue),limit_\(r.limit ? 1 : 0)"
        }
    }
}
