import Crypto

/// The `X-Security-Sign` of the visitor endpoints, as the deployed client computes it:
/// `sha256_hex("deviceId=<d>&salt=<salt>&timestamp=<t>" + "APP_SECRET")` (keys sorted,
/// literal suffix).
package struct VisitorSignature: Sendable {
    let salt: String

    package init(salt: String) {
        self.salt = salt
    }

    func expected(deviceID: String, timestamp: String) -> String {
        let text = "deviceId=\(deviceID)&salt=\(salt)&timestamp=\(timestamp)APP_SECRET"
        return SHA256.hash(data: Array(text.utf8)).hexString
    }

    func isValid(_ signature: String, deviceID: String, timestamp: String) -> Bool {
        constantTimeEquals(signature.lowercased(), expected(deviceID: deviceID, timestamp: timestamp))
    }
}
