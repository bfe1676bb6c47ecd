/// Why no QR code image could be made.
public enum QRCodeError: Error, Equatable, Sendable {
    case emptyContent
    /// More bytes than the largest symbol (version 40) holds.
    case tooLong(Int)
    /// libpng refused the image; its message.
    case png(String)
}
