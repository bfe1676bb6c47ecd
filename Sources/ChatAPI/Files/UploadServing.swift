import HTTPTypes
import Hummingbird

/// Serves the upload folder at `/public/uploads/…` (GET and HEAD) without a token, as
/// the old server's static files were: the content type by extension, and single byte
/// ranges (206, 416) so players can seek in videos. Names are checked by `UploadFolder`;
/// anything else — `..`, encoded dots or slashes, hidden files, symbolic links, folders —
/// is 404.
package struct UploadServing: Sendable {
    let folder: UploadFolder
    private let files = FileIO()

    init(folder: UploadFolder) {
        self.folder = folder
    }

    /// Stored names never change their contents, so clients may keep them.
    static let cacheControl = "public, max-age=31536000, immutable"

    func register(on router: some RouterMethods<BridgeRequestContext>) {
        router.get("public/uploads/**") { request, context in try await serve(request, context: context) }
        router.head("public/uploads/**") { request, context in try await serve(request, context: context) }
    }

    func serve(_ request: Request, context: BridgeRequestContext) async throws -> Response {
        guard let names = UploadFolder.relativePath(ofURLPath: request.uri.path),
              let file = await folder.existingFile(names)
        else { throw HTTPError(.notFound) }
        var headers: HTTPFields = [
            .contentType: MediaTypes.contentType(ofName: names[names.count - 1]),
            .acceptRanges: "bytes",
            .cacheControl: Self.cacheControl,
            .xContentTypeOptions: "nosniff",
        ]
        let range: ClosedRange<Int>
        let status: HTTPResponse.Status
        switch ByteRangeRequest(header: request.headers[.range], size: file.size) {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(file.size)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .whole:
            headers[.contentLength] = String(file.size)
            guard file.size > 0 else { return Response(status: .ok, headers: headers) }
            (status, range) = (.ok, 0...(file.size - 1))
        case .partial(let part):
            headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(file.size)"
            headers[.contentLength] = String(part.count)
            (status, range) = (.partialContent, part)
        }
        guard request.method != .head else { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: try await files.loadFile(path: file.path, range: range, context: context))
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
