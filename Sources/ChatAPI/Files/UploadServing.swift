import HTTPTypes
import Hummingbird

/// Serves the upload folder at `/public/uploads/…` (GET and HEAD) without a token, as
/// the old server's static files were: the content type by extension, and single byte
/// ranges (206, 416) so players can seek in videos. Names are checked by `UploadFolder`;
/// anything else — `..`, encoded dots or slashes, hidden files, symbolic links, folders —
/// is 404. With an `x-oss-process` query, a stored video's frame or a stored image
/// resized (`OSSProcessor`) instead.
package struct UploadServing: Sendable {
    let folder: UploadFolder
    let processor: OSSProcessor?
    private let files = FileIO()

    /// - Parameter processor: nil: `x-oss-process` is ignored, as it was before (the file).
    init(folder: UploadFolder, processor: OSSProcessor? = nil) {
        self.folder = folder
        self.processor = processor
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
        if let processor, let process = request.uri.queryParameters[OSSProcess.parameterName[...]] {
            return try await serve(process, of: names, at: file.path, with: processor, request: request, context: context)
        }
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

    /// The processed image, whole (a range header is not looked at), or `fail(text)`.
    private func serve(
        _ process: Substring, of names: [String], at source: String, with processor: OSSProcessor, request: Request,
        context: BridgeRequestContext
    ) async throws -> Response {
        let image: OSSProcessor.Image
        do throws(OSSProcessor.Failure) {
            image = try await processor.image(process, of: names, at: source)
        } catch {
            var response = APIResponse.fail(error.text)
            response.status = error.status
            return response
        }
        let headers: HTTPFields = [
            .contentType: image.contentType,
            .contentLength: String(image.size),
            .cacheControl: Self.cacheControl,
            .xContentTypeOptions: "nosniff",
        ]
        guard request.method != .head else { return Response(status: .ok, headers: headers) }
        return Response(status: .ok, headers: headers, body: try await files.loadFile(path: image.path, context: context))
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
