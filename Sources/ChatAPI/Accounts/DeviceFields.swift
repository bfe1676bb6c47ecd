import Model

/// The device a visitor account is bound to, and what the client says about it.
/// Updated on every visitor call (docs/api.md).
struct DeviceFields: Sendable {
    let deviceID: String
    var uniplatform: String?
    var devicemodel: String?
    var deviceos: String?
    var devicebrand: String?

    func apply(to user: inout UserRow) {
        user.devicefingeruuid = deviceID
        if let uniplatform { user.uniplatform = uniplatform }
        if let devicemodel { user.devicemodel = devicemodel }
        if let deviceos { user.deviceos = deviceos }
        if let devicebrand { user.devicebrand = devicebrand }
    }

    /// The columns to write for an existing account (only what the client sent).
    var columns: [(String, String)] {
        [("uniplatform", uniplatform), ("devicemodel", devicemodel), ("deviceos", deviceos), ("devicebrand", devicebrand)]
            .compactMap { column, value in value.map { (column, $0) } }
    }
}
