/// A QR code as a PNG image, drawn as the old server's qr-image drew it
/// (`qr.image(text, { size: 10 })`): error correction M, 10 pixels per module, a quiet
/// zone of 4 modules, black on white.
public struct QRCodePNG: Sendable {
    public var pixelsPerModule: Int
    public var quietZoneModules: Int
    public var correction: QRMatrix.Correction

    public init(pixelsPerModule: Int = 10, quietZoneModules: Int = 4, correction: QRMatrix.Correction = .medium) {
        precondition(pixelsPerModule > 0 && quietZoneModules >= 0)
        self.pixelsPerModule = pixelsPerModule
        self.quietZoneModules = quietZoneModules
        self.correction = correction
    }

    /// The PNG file of `text`'s UTF-8 bytes.
    public func png(of text: String) throws(QRCodeError) -> [UInt8] {
        let matrix = try QRMatrix.encode(Array(text.utf8), correction: correction)
        let side = (matrix.width + 2 * quietZoneModules) * pixelsPerModule
        return try PNGEncoder.grayscale(pixels(of: matrix, side: side), width: side, height: side)
    }

    /// Pixels of the side length `side`: white, with each dark module a black square.
    func pixels(of matrix: QRMatrix, side: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 255, count: side * side)
        let origin = quietZoneModules * pixelsPerModule
        for y in 0..<matrix.width {
            for x in 0..<matrix.width where matrix[x, y] {
                let left = origin + x * pixelsPerModule
                for row in (origin + y * pixelsPerModule)..<(origin + (y + 1) * pixelsPerModule) {
                    let start = row * side + left
                    pixels.replaceSubrange(start..<(start + pixelsPerModule), with: repeatElement(0, count: pixelsPerModule))
                }
            }
        }
        return pixels
    }
}
