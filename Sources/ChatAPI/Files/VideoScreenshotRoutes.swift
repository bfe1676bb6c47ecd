import ChatGateway
import Foundation
import Hummingbird
import Model

/// docs/api.md `getVideoScreenshot`: a frame of a video this bridge stored, as base64 and as
/// a stored file. The texts and the answer's shape are the old server's.
package struct VideoScreenshotRoutes: Sendable {
    let screenshotter: VideoScreenshotter

    static let missingURL = "视频地址不能为空"
    static let badTime = "时间点参数无效"
    static let badWidth = "图片宽度应在1-3840之间"
    /// `width` in the answer when none was asked for (as the old server answered).
    static let originalWidth = "原始宽度"
    static let widths: ClosedRange<Int64> = 1...3840
    /// Later than this (about 11 days of video) is no time point of a chat video.
    static let latestTime = 1_000_000_000.0

    func register(chat: some RouterMethods<BridgeRequestContext>) {
        chat.post("getVideoScreenshot") { request, context -> Response in
            do {
                let (parameters, _) = try await context.caller(of: request)
                guard let videoURL = parameters["videoUrl"]?.stringValue, !videoURL.isEmpty else { throw APIFailure(Self.missingURL) }
                let time = parameters["time"] ?? .null
                guard let milliseconds = Self.milliseconds(time) else { throw APIFailure(Self.badTime) }
                let width = try Self.width(parameters["width"])
                let format = try Self.format(parameters)
                let screenshot: VideoScreenshotter.Screenshot
                do throws(VideoScreenshotter.Failure) {
                    screenshot = try await screenshotter.screenshot(of: videoURL, at: milliseconds, width: width, format: format)
                } catch {
                    throw APIFailure(error.text)
                }
                let data: JSONObject = [
                    "base64": .string("data:image/\(format.rawValue);base64," + Data(screenshot.bytes).base64EncodedString()),
                    "url": .string(UploadFolder.urlPrefix + screenshot.names.joined(separator: "/")),
                    "format": .string(format.rawValue),
                    "time": time,
                    "width": width.map { .integer(Int64($0)) } ?? .string(Self.originalWidth),
                ]
                return APIResponse.ok(.object(data))
            } catch let failure as APIFailure {
                return APIResponse.fail(failure.text)
            }
        }
    }

    /// `time` in ms ≥ 0: a number or a numeric string.
    static func milliseconds(_ value: JSONValue) -> Int64? {
        let number: Double?
        switch value {
        case .integer(let integer): number = Double(integer)
        case .double(let double): number = double
        case .string(let text): number = Double(text.trimming(" \t"))
        default: number = nil
        }
        guard let number, number.isFinite, number >= 0, number <= latestTime else { return nil }
        return Int64(number)
    }

    /// `width`: absent, empty or 0 for the video's own width (the old `width && …`), else 1–3840.
    static func width(_ value: JSONValue?) throws(APIFailure) -> Int? {
        switch value {
        case .none, .null, .string(""), .integer(0): return nil
        default:
            guard let width = value?.integerValue, widths.contains(width) else { throw APIFailure(badWidth) }
            return Int(width)
        }
    }

    static func format(_ parameters: RequestParameters) throws(APIFailure) -> VideoScreenshotter.Format {
        guard parameters["format"] != nil, parameters["format"] != .null, parameters["format"] != .string("") else { return .png }
        let name = try parameters.oneOf("format", VideoScreenshotter.Format.allCases.map(\.rawValue))
        return VideoScreenshotter.Format(rawValue: name) ?? .png
    }
}
