import CQREncode

/// The modules of a QR code symbol, encoded by libqrencode: `width × width` cells, true
/// where the module is dark.
public struct QRMatrix: Sendable, Equatable {
    /// How much of the symbol may be damaged and still read (QR's four levels).
    public enum Correction: Sendable {
        case low, medium, quartile, high

        var level: QRecLevel {
            switch self {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        }
    }

    /// Modules per side (21 for version 1, +4 per version).
    public let width: Int
    /// Row by row, `width * width` entries.
    public let modules: [Bool]

    public init(width: Int, modules: [Bool]) {
        precondition(modules.count == width * width, "a QR matrix is square")
        self.width = width
        self.modules = modules
    }

    public subscript(x: Int, y: Int) -> Bool { modules[y * width + x] }

    /// Encodes `bytes` in byte mode (UTF-8 text as the old server's qr-image did), the
    /// smallest version that holds them at `correction`.
    public static func encode(_ bytes: [UInt8], correction: Correction = .medium) throws(QRCodeError) -> QRMatrix {
        guard !bytes.isEmpty else { throw .emptyContent }
        let symbol = bytes.withUnsafeBufferPointer { buffer in
            QRcode_encodeData(Int32(buffer.count), buffer.baseAddress, 0, correction.level)
        }
        // NULL with ERANGE: too long for the largest symbol (version 40).
        guard let symbol else { throw .tooLong(bytes.count) }
        defer { QRcode_free(symbol) }
        let width = Int(symbol.pointee.width)
        let data = UnsafeBufferPointer(start: symbol.pointee.data, count: width * width)
        // Bit 0 of each byte is the module's colour; the others describe its role.
        return QRMatrix(width: width, modules: data.map { $0 & 1 == 1 })
    }
}
