import CPNG

/// 8-bit grayscale pixels to a PNG file in memory, through libpng's simplified API.
public enum PNGEncoder {
    /// `pixels`: `width * height` bytes, row by row, 0 black … 255 white.
    public static func grayscale(_ pixels: [UInt8], width: Int, height: Int) throws(QRCodeError) -> [UInt8] {
        precondition(pixels.count == width * height, "one byte per pixel")
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = png_uint_32(PNG_FORMAT_GRAY)
        // First call: how many bytes the file takes; second: write it.
        var size = 0
        let measured = pixels.withUnsafeBytes { raw in
            png_image_write_to_memory(&image, nil, &size, 0, raw.baseAddress, png_int_32(width), nil)
        }
        guard measured != 0 else { throw .png(message(of: &image)) }
        var file = [UInt8](repeating: 0, count: size)
        let written = file.withUnsafeMutableBytes { output in
            pixels.withUnsafeBytes { raw in
                png_image_write_to_memory(&image, output.baseAddress, &size, 0, raw.baseAddress, png_int_32(width), nil)
            }
        }
        guard written != 0 else { throw .png(message(of: &image)) }
        return Array(file.prefix(size))
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
