internal import CMariaDB
#if canImport(Glibc)
import Glibc
#endif

/// What a connection hands the server for `LOAD DATA LOCAL INFILE`: bytes in memory
/// under a name, for the length of one statement, and nothing else.
///
/// The server, not the statement, names the file it wants (a `LOCAL INFILE` request
/// can come as the reply to any statement), and libmariadb's default handler would open
/// that path. This handler replaces it: it serves only the name offered for the statement
/// being run, byte for byte, and refuses every other request, so a hostile or impersonated
/// server can read nothing but the rows it is being sent.
final class LocalDataOffer {
    private var name: [UInt8]?
    private var contents: [UInt8] = []
    private var offset = 0
    /// Why the last request was refused (given to the library through the error callback).
    private var refusal = ""

    /// Offers `contents` under `name` while `body` runs.
    func offering<Result>(_ name: String, _ contents: [UInt8], _ body: () throws(MariaDBError) -> Result) throws(MariaDBError) -> Result {
        self.name = Array(name.utf8)
        self.contents = contents
        offset = 0
        defer {
            self.name = nil
            self.contents = []
        }
        return try body()
    }

    /// Installs the handler on `handle`; `self` must outlive the handle (the connection
    /// owns both).
    func install(on handle: UnsafeMutablePointer<MYSQL>) {
        mysql_set_local_infile_handler(
            handle, localDataOpen, localDataRead, localDataClose, localDataError, Unmanaged.passUnretained(self).toOpaque()
        )
    }

    fileprivate func open(_ requested: UnsafePointer<CChar>?) -> Bool {
        let asked = requested.map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) } ?? []
        guard let name, asked == name else {
            refusal = "LOAD DATA LOCAL INFILE: the server asked for '\(String(decoding: asked.prefix(200), as: UTF8.self))', "
                + "which this connection did not offer; refused"
            return false
        }
        offset = 0
        return true
    }

    fileprivate func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        let count = min(capacity, contents.count - offset)
        guard count > 0 else { return 0 }
        contents.withUnsafeBytes { bytes in
            UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }

    fileprivate func error(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int32 {
        let message = Array(refusal.utf8.prefix(max(0, capacity - 1)))
        message.withUnsafeBytes { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: message.count) }
        buffer[message.count] = 0
        return CR_UNKNOWN_ERROR
    }
}

// The C callbacks: `userdata` (and the state pointer after `open`) is the offer.

private func offer(_ pointer: UnsafeMutableRawPointer?) -> LocalDataOffer? {
    pointer.map { Unmanaged<LocalDataOffer>.fromOpaque($0).takeUnretainedValue() }
}

private func localDataOpen(
    _ state: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ name: UnsafePointer<CChar>?, _ userdata: UnsafeMutableRawPointer?
) -> Int32 {
    state?.pointee = userdata  // the library passes it to the error callback even when refused
    return offer(userdata)?.open(name) == true ? 0 : 1
}

private func localDataRead(_ state: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: UInt32) -> Int32 {
    guard let buffer, let offer = offer(state) else { return -1 }
    return Int32(offer.read(into: buffer, capacity: Int(capacity)))
}

private func localDataClose(_: UnsafeMutableRawPointer?) {}

private func localDataError(_ state: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: UInt32) -> Int32 {
    guard let buffer, capacity > 0 else { return CR_UNKNOWN_ERROR }
    guard let offer = offer(state) else {
        buffer[0] = 0
        return CR_UNKNOWN_ERROR
    }
    return offer.error(into: buffer, capacity: Int(capacity))
}
