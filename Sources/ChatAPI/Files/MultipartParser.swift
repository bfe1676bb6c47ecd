#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// An incremental `multipart/form-data` parser (RFC 7578 / RFC 2046): bytes go in as
/// they arrive, events come out, and a part's body is handed on in pieces, so a file is
/// never held whole in memory. It keeps at most one delimiter's length of a body, or one
/// part's headers, between calls.
struct MultipartParser {
    enum Event: Equatable {
        /// A part begins.
        case part(MultipartPartHeaders)
        /// The next piece of the current part's body.
        case body(ByteBuffer)
        /// The current part is complete.
        case partEnd
        /// The closing delimiter: nothing more follows (an epilogue is ignored).
        case end
    }

    enum Failure: Error, Equatable {
        /// Not a multipart body of this boundary, or cut off before the closing delimiter.
        case malformed
        /// A part's header block above `maximumHeaderBytes`.
        case headersTooLong
    }

    /// One part's header block may not be longer (names and file names are short).
    static let maximumHeaderBytes = 16 * 1024

    private enum State {
        case preamble
        /// After a delimiter: `--` (the end) or transport padding and CRLF (a part).
        case boundaryLine
        case headers
        case body
        case done
    }

    /// `--boundary`: how the first delimiter may open the body.
    private let dashBoundary: [UInt8]
    /// `CRLF--boundary`: what ends every part's body.
    private let delimiter: [UInt8]
    private var buffer = ByteBuffer()
    private var state = State.preamble
    private var atStart = true

    init(boundary: String) {
        dashBoundary = Array("--\(boundary)".utf8)
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    mutating func append(_ chunk: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex > 64 * 1024 {
            buffer.discardReadBytes()
        }
        var chunk = chunk
        buffer.writeBuffer(&chunk)
    }

    /// The next event, or nil when more bytes are needed.
    mutating func next() throws(Failure) -> Event? {
        while true {
            switch state {
            case .preamble:
                if atStart {
                    guard buffer.readableBytes >= dashBoundary.count else { return nil }
                    atStart = false
                    if startsWith(dashBoundary) {
                        buffer.moveReaderIndex(forwardBy: dashBoundary.count)
                        state = .boundaryLine
                        continue
                    }
                }
                if let offset = find(delimiter) {
                    buffer.moveReaderIndex(forwardBy: offset + delimiter.count)
                    state = .boundaryLine
                    continue
                }
                buffer.moveReaderIndex(forwardBy: max(0, buffer.readableBytes - (delimiter.count - 1)))
                return nil

            case .boundaryLine:
                guard buffer.readableBytes >= 2 else { return nil }
                if startsWith([UInt8(ascii: "-"), UInt8(ascii: "-")]) {
                    state = .done
                    buffer.moveReaderIndex(to: buffer.writerIndex)
                    return .end
                }
                guard let lineEnd = find(Self.crlf) else {
                    if buffer.readableBytes > 256 { throw .malformed }
                    return nil
                }
                // Only spaces and tabs may stand between a delimiter and its CRLF.
                let padding = buffer.readableBytesView.prefix(lineEnd)
                guard padding.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { throw .malformed }
                buffer.moveReaderIndex(forwardBy: lineEnd + 2)
                state = .headers

            case .headers:
                let length: Int
                if startsWith(Self.crlf) {
                    length = 0  // a part without headers
                } else if let end = find(Self.headerEnd) {
                    length = end + 2
                } else {
                    if buffer.readableBytes > Self.maximumHeaderBytes { throw .headersTooLong }
                    return nil
                }
                guard length <= Self.maximumHeaderBytes else { throw .headersTooLong }
                let block = buffer.readBytes(length: length) ?? []
                buffer.moveReaderIndex(forwardBy: 2)
                state = .body
                return .part(try MultipartPartHeaders(block: block))

            case .body:
                if let offset = find(delimiter) {
                    if offset > 0 { return .body(buffer.readSlice(length: offset)!) }
                    buffer.moveReaderIndex(forwardBy: delimiter.count)
                    state = .boundaryLine
                    return .partEnd
                }
                // Everything but what could be the start of a delimiter cut by the chunk end.
                let safe = buffer.readableBytes - (delimiter.count - 1)
                guard safe > 0 else { return nil }
                return .body(buffer.readSlice(length: safe)!)

            case .done:
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            }
        }
    }

    /// Called when the input has ended and `next()` answered nil: fails unless the
    /// closing delimiter was seen.
    func finish() throws(Failure) {
        guard case .done = state else { throw .malformed }
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]
    private static let headerEnd: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]

    private func startsWith(_ pattern: [UInt8]) -> Bool {
        buffer.readableBytesView.starts(with: pattern)
    }

    /// Offset of `pattern` in the readable bytes (memchr for its first byte, then compare).
    private func find(_ pattern: [UInt8]) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard let base = bytes.baseAddress, bytes.count >= pattern.count else { return nil }
            let first = Int32(pattern[0])
            var offset = 0
            let last = bytes.count - pattern.count
            while offset <= last {
                guard let hit = memchr(base + offset, first, last - offset + 1) else { return nil }
                let position = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + position, pattern, pattern.count) == 0 { return position }
                offset = position + 1
            }
            return nil
        }
    }
}
