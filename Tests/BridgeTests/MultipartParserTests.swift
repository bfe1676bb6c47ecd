import Foundation
import NIOCore
import Testing
import TestSupport

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// The incremental multipart parser: the same events whatever the chunking, bodies
/// handed on in pieces, and clear failures for bad input.
@Suite("Multipart parser", .offCooperativePool)
struct MultipartParserTests {
    static let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"

    static func body(_ parts: [(headers: String, content: [UInt8])], boundary: String = boundary, preamble: String = "") -> [UInt8] {
        var bytes = Array(preamble.utf8)
        for part in parts {
            bytes += Array("--\(boundary)\r\n\(part.headers)\r\n\r\n".utf8) + part.content + Array("\r\n".utf8)
        }
        return bytes + Array("--\(boundary)--\r\n".utf8)
    }

    /// Parts (headers and joined body) of `bytes` fed in chunks of `size`; also checks
    /// that no body piece is handed on empty.
    static func parse(_ bytes: [UInt8], chunk size: Int, boundary: String = boundary) throws -> [(MultipartPartHeaders, [UInt8])] {
        var parser = MultipartParser(boundary: boundary)
        var parts: [(MultipartPartHeaders, [UInt8])] = []
        var ended = false
        var offset = 0
        func drain() throws {
            while let event = try parser.next() {
                switch event {
                case .part(let headers): parts.append((headers, []))
                case .body(let piece):
                    #expect(piece.readableBytes > 0)
                    parts[parts.count - 1].1 += Array(buffer: piece)
                case .partEnd: continue
                case .end: ended = true
                }
            }
        }
        while offset < bytes.count {
            let end = min(bytes.count, offset + size)
            parser.append(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
            try drain()
        }
        try drain()
        try parser.finish()
        #expect(ended)
        return parts
    }

    @Test("two fields and a file, in chunks of every size from 1 to 80 bytes and whole")
    func everyChunking() throws {
        // The file holds what almost looks like a delimiter, and CR LF pairs.
        let file = Array("\r\n--\(Self.boundary.dropLast())x\r\nabc\r\n\r\n--".utf8) + (0..<300).map { UInt8($0 % 256) }
        let bytes = Self.body(
            [
                (#"Content-Disposition: form-data; name="user""#, Array("张三".utf8)),
                (#"Content-Disposition: form-data; name="file"; filename="视频 1;x.MP4""# + "\r\nContent-Type: video/mp4", file),
                (#"content-disposition: form-data; name=empty"#, []),
            ],
            preamble: "ignored preamble\r\n"
        )
        for size in Array(1...80) + [bytes.count] {
            let parts = try Self.parse(bytes, chunk: size)
            #expect(parts.count == 3)
            #expect(parts[0].0 == MultipartPartHeaders(name: "user") && parts[0].1 == Array("张三".utf8))
            #expect(parts[1].0 == MultipartPartHeaders(name: "file", filename: "视频 1;x.MP4", contentType: "video/mp4"))
            #expect(parts[1].1 == file)
            #expect(parts[2].0 == MultipartPartHeaders(name: "empty") && parts[2].1.isEmpty)
        }
    }

    @Test("a large body is handed on in pieces: the parser never holds more than a chunk plus a delimiter")
    func streaming() throws {
        var parser = MultipartParser(boundary: Self.boundary)
        parser.append(ByteBuffer(string: "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n"))
        #expect(try parser.next() == .part(MultipartPartHeaders(name: "file", filename: "a.bin")))
        var received = 0
        let heldBack = ("\r\n--" + Self.boundary).utf8.count - 1
        for round in 1...100 {
            parser.append(ByteBuffer(repeating: 0x41, count: 64 * 1024))
            while let event = try parser.next() {
                guard case .body(let piece) = event else { Issue.record("unexpected \(event)"); return }
                received += piece.readableBytes
            }
            // All but what could begin a delimiter is already out.
            #expect(received == round * 64 * 1024 - heldBack)
        }
        parser.append(ByteBuffer(string: "\r\n--\(Self.boundary)--"))
        var events: [MultipartParser.Event] = []
        while let event = try parser.next() { events.append(event) }
        #expect(events.last == .end)
    }

    @Test("bad bodies fail clearly", arguments: [
        "no boundary at all",
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue without its closing delimiter",
        "--\(boundary)\r\nno colon in this header line\r\n\r\nx\r\n--\(boundary)--",
        "--\(boundary)garbage\r\n\r\nx\r\n--\(boundary)--",
    ])
    func malformed(_ text: String) {
        #expect(throws: MultipartParser.Failure.malformed) {
            _ = try Self.parse(Array(text.utf8), chunk: 7)
        }
    }

    @Test("a header block above 16 KB is refused without waiting for its end")
    func longHeaders() {
        var parser = MultipartParser(boundary: Self.boundary)
        parser.append(ByteBuffer(string: "--\(Self.boundary)\r\nX-Long: " + String(repeating: "a", count: 20_000)))
        #expect(throws: MultipartParser.Failure.headersTooLong) { _ = try parser.next() }
    }

    @Test("the boundary comes from a multipart/form-data Content-Type only")
    func boundaryOfContentType() {
        #expect(MultipartPartHeaders.boundary(ofContentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartPartHeaders.boundary(ofContentType: #"Multipart/Form-Data; charset=utf-8; boundary="a b;c""#) == "a b;c")
        #expect(MultipartPartHeaders.boundary(ofContentType: "application/json") == nil)
        #expect(MultipartPartHeaders.boundary(ofContentType: "multipart/form-data") == nil)
        #expect(MultipartPartHeaders.boundary(ofContentType: "multipart/form-data; boundary=" + String(repeating: "x", count: 71)) == nil)
        #expect(MultipartPartHeaders.boundary(ofContentType: nil) == nil)
    }
}

@Suite("Byte ranges and upload names", .offCooperativePool)
struct ByteRangeTests {
    @Test("Range headers of RFC 9110 against a 1000-byte file", arguments: [
        (nil, ByteRangeRequest.whole),
        ("bytes=0-99", .partial(0...99)),
        ("bytes=900-", .partial(900...999)),
        ("bytes=-10", .partial(990...999)),
        ("bytes=-5000", .partial(0...999)),
        ("bytes=990-2000", .partial(990...999)),
        ("bytes=999-999", .partial(999...999)),
        ("bytes=1000-", .unsatisfiable),
        ("bytes=1000-1200", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=5-2", .whole),
        ("bytes=0-1,5-6", .whole),
        ("bytes=abc", .whole),
        ("items=0-5", .whole),
        ("bytes=99999999999999999999999-", .unsatisfiable),
        ("bytes=0-99999999999999999999999", .partial(0...999)),
    ] as [(String?, ByteRangeRequest)])
    func ranges(_ header: String?, _ expected: ByteRangeRequest) {
        #expect(ByteRangeRequest(header: header, size: 1000) == expected)
    }

    @Test("an empty file satisfies no range")
    func emptyFile() {
        #expect(ByteRangeRequest(header: "bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRangeRequest(header: nil, size: 0) == .whole)
    }

    @Test("URL paths become names inside the folder, or nothing", arguments: [
        ("/public/uploads/Diy/a/20260101/1_00000001.jpg", ["Diy", "a", "20260101", "1_00000001.jpg"]),
        ("/public/uploads/images/%32%30.png", ["images", "20.png"]),
        ("/public/uploads/../etc/passwd", nil),
        ("/public/uploads/%2e%2e/%2e%2e/etc/passwd", nil),
        ("/public/uploads/Diy/%2F..%2Fx", nil),
        ("/public/uploads//etc/passwd", nil),
        ("/public/uploads/.hidden.part", nil),
        ("/public/uploads/a/./b", nil),
        ("/public/uploads/", nil),
        ("/public/uploadsx/a", nil),
        ("/public/uploads/a%00b", nil),
        ("/public/uploads/a%zz", nil),
        ("/public/uploads/空格 name", nil),
    ] as [(String, [String]?)])
    func urlPaths(_ path: String, _ expected: [String]?) {
        #expect(UploadFolder.relativePath(ofURLPath: path) == expected)
    }

    @Test("video URLs: our path, absolute or not; never another place", arguments: [
        ("/public/uploads/Diy/v/1.mp4", ["Diy", "v", "1.mp4"]),
        ("http://anyhost:7001/public/uploads/Diy/v/1.mp4?x=1#t", ["Diy", "v", "1.mp4"]),
        ("HTTPS://h/public/uploads/Diy/v/1.mp4", ["Diy", "v", "1.mp4"]),
        ("http://evil.example/video.mp4", nil),
        ("file:///etc/passwd", nil),
        ("/etc/passwd", nil),
        ("public/uploads/Diy/v/1.mp4", nil),
        ("http://h", nil),
    ] as [(String, [String]?)])
    func videoURLs(_ url: String, _ expected: [String]?) {
        #expect(UploadFolder.relativePath(ofURL: url) == expected)
    }

    @Test("stored names follow the old patterns; the extension comes from the name, else the type")
    func names() {
        #expect(UploadNames.diy(extension: "jpg", milliseconds: 1_700_000_000_123).wholeMatch(of: /1700000000123_\d{8}\.jpg/) != nil)
        #expect(UploadNames.aliyun(extension: "png", milliseconds: 5).wholeMatch(of: /5_[0-9a-f]{12}\.png/) != nil)
        #expect(UploadNames.screenshot(format: "jpg", milliseconds: 5).wholeMatch(of: /screenshot_5_[0-9a-z]{6}\.jpg/) != nil)
        #expect(UploadNames.day(Date(timeIntervalSince1970: 0)).count == 8)
        #expect(UploadNames.fileExtension(filename: "C:\\photos\\My.Photo.JPG", contentType: nil) == "jpg")
        #expect(UploadNames.fileExtension(filename: "blob", contentType: "image/png") == "png")
        #expect(UploadNames.fileExtension(filename: "x.p h p", contentType: "image/png") == "")
        #expect(UploadNames.fileExtension(filename: "noext.", contentType: nil) == "")
        #expect(UploadNames.fileExtension(filename: nil, contentType: "video/mp4; codecs=avc1") == "mp4")
        #expect(UploadRoutes.isFolderName("chat_video-1") && !UploadRoutes.isFolderName("a.b") && !UploadRoutes.isFolderName(""))
        #expect(!UploadRoutes.isFolderName(String(repeating: "a", count: 65)) && !UploadRoutes.isFolderName("%2e"))
    }
}
