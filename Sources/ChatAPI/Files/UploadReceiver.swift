import Hummingbird
import Logging
import Metrics
import NIOCore
import _NIOFileSystem

/// Streams the file of one multipart upload into the upload folder, checking the size
/// limit and the extension allow-list on the way.
///
/// The file is created with NIO's transactional creation (an unnamed `O_TMPFILE` on
/// Linux, else a hidden temporary name) and linked under its name only when every byte
/// was written: a refused, cut-off or failed upload leaves nothing in the folder, even
/// when the process dies half way.
package struct UploadReceiver: Sendable {
    let folder: UploadFolder
    let policy: FilePolicy
    let logger: Logger

    /// Multipart framing and other fields may add this much to the file's size before
    /// Content-Length alone refuses an upload.
    static let framingAllowance = 64 * 1024

    /// A new file (never replacing one) that appears under its name only when closed
    /// after a successful write.
    static let transactionalNewFile = OpenOptions.Write(existingFile: .none, newFile: OpenOptions.NewFile(transactionalCreation: true))

    private static let stored = Counter(label: "chat_uploads_stored_total")
    private static let refused = Counter(label: "chat_uploads_refused_total")

    /// Receives the first part of field `field` that carries a file name into the folders
    /// `folders` (made where missing) under the name `name(extension)`; returns the
    /// stored file's names inside the upload folder.
    func receive(
        _ request: Request, field: String, into folders: [String], name: (String) -> String
    ) async throws(UploadRefusal) -> [String] {
        do throws(UploadRefusal) {
            let names = try await store(request, field: field, folders: folders, name: name)
            Self.stored.increment()
            return names
        } catch {
            Self.refused.increment()
            if case .storageFailed = error { logger.error("an upload could not be stored", metadata: ["folders": "\(folders)"]) }
            throw error
        }
    }

    private func store(
        _ request: Request, field: String, folders: [String], name: (String) -> String
    ) async throws(UploadRefusal) -> [String] {
        guard let boundary = MultipartPartHeaders.boundary(ofContentType: request.headers[.contentType]) else {
            throw .notMultipart
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > policy.maxUploadBytes + Self.framingAllowance {
            throw .tooLarge(limit: policy.maxUploadBytes)
        }
        var reader = MultipartReader(body: request.body, boundary: boundary)
        var bytesRead = 0
        let headers = try await Self.refusing { () async throws -> MultipartPartHeaders? in
            // Other fields (uni-app's formData) are read past, and count towards the limit.
            while let event = try await reader.next() {
                switch event {
                case .part(let part) where part.name == field && part.filename != nil:
                    return part
                case .body(let bytes):
                    bytesRead += bytes.readableBytes
                    guard bytesRead <= policy.maxUploadBytes else { throw UploadRefusal.tooLarge(limit: policy.maxUploadBytes) }
                case .part, .partEnd:
                    continue
                case .end:
                    return nil
                }
            }
            return nil
        }
        guard let headers else { throw .missingFile(field: field) }
        let ext = UploadNames.fileExtension(filename: headers.filename, contentType: headers.contentType)
        guard policy.allowedExtensions.contains(ext) else { throw .forbiddenType(ext) }

        try await folder.makeFolders(folders)
        let names = folders + [name(ext)]
        let path = FilePath(folder.path(of: names))
        let limit = policy.maxUploadBytes
        try await Self.refusing {
            try await FileSystem.shared.withFileHandle(forWritingAt: path, options: Self.transactionalNewFile) { file in
                try await file.withBufferedWriter { writer in
                    while let event = try await reader.next() {
                        switch event {
                        case .body(let bytes):
                            bytesRead += bytes.readableBytes
                            guard bytesRead <= limit else { throw UploadRefusal.tooLarge(limit: limit) }
                            _ = try await writer.write(contentsOf: bytes)
                        case .partEnd:
                            return
                        case .part, .end:
                            throw UploadRefusal.malformed
                        }
                    }
                    throw UploadRefusal.malformed
                }
            }
        }
        return names
    }

    /// Runs `body`, turning what it throws into the refusal the client is told.
    private static func refusing<T>(_ body: () async throws -> T) async throws(UploadRefusal) -> T {
        do {
            return try await body()
        } catch let refusal as UploadRefusal {
            throw refusal
        } catch is MultipartParser.Failure {
            throw .malformed
        } catch is FileSystemError {
            throw .storageFailed
        } catch {
            // The request body failed: the client went away.
            throw .interrupted
        }
    }
}
