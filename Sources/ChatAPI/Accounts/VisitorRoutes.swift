import ChatGateway
import HTTPTypes
import Hummingbird
import Model

/// `POST /api/visitorRegister`, `/api/visitorregChat`, `/api/visitorloginChat`.
package struct VisitorRoutes: Sendable {
    static let signatureHeader = HTTPField.Name("X-Security-Sign")!

    let visitors: VisitorService

    func register(on router: some RouterMethods<BridgeRequestContext>) {
        router.post("api/visitorRegister") { request, context -> Response in
            let (parameters, sign) = try await Self.signedParameters(request, context)
            let device = try Self.device(parameters)
            let timestamp = try Self.timestamp(parameters)
            try await visitors.check(sign: sign, deviceID: device.deviceID, timestamp: timestamp, from: address(request, context))
            return APIResponse.ok(.object(try await visitors.register(device: device)))
        }
        router.post("api/visitorregChat") { request, context -> Response in
            let (username, password, device) = try await signedCredentials(request, context)
            return APIResponse.ok(.object(try await visitors.upgrade(username: username, password: password, device: device)))
        }
        router.post("api/visitorloginChat") { request, context -> Response in
            let (username, password, _) = try await signedCredentials(request, context)
            return APIResponse.ok(.object(
                try await visitors.accounts.loginResult(username: username, password: password, from: address(request, context))
            ))
        }
    }

    /// The two endpoints with a username and password: validated, then the visitor checks.
    private func signedCredentials(
        _ request: Request, _ context: BridgeRequestContext
    ) async throws(APIFailure) -> (username: String, password: String, device: DeviceFields) {
        let (parameters, sign) = try await Self.signedParameters(request, context)
        let username = try parameters.string("username", length: 4...StoredLimits.User.username.maximum)
        let password = try parameters.string("password", length: 6...20)
        let device = try Self.device(parameters)
        let timestamp = try Self.timestamp(parameters)
        try await visitors.check(sign: sign, deviceID: device.deviceID, timestamp: timestamp, from: address(request, context))
        return (username, password, device)
    }

    private func address(_ request: Request, _ context: BridgeRequestContext) -> ClientAddress? {
        visitors.accounts.limits.address(of: request, context: context)
    }

    /// The header is checked before anything else (docs/api.md: `非法访问` first).
    private static func signedParameters(
        _ request: Request, _ context: BridgeRequestContext
    ) async throws(APIFailure) -> (RequestParameters, String) {
        guard let sign = request.headers[signatureHeader], !sign.isEmpty else {
            throw APIFailure(VisitorService.missingSignature)
        }
        var request = request
        var context = context
        return (try await context.parameters(of: &request), sign)
    }

    private static func device(_ parameters: RequestParameters) throws(APIFailure) -> DeviceFields {
        DeviceFields(
            deviceID: try parameters.string("deviceId", length: 36...StoredLimits.User.deviceID.maximum),
            uniplatform: try parameters.optionalString("uniplatform", length: 2...StoredLimits.User.uniplatform.maximum),
            devicemodel: try parameters.optionalString("devicemodel", length: 1...StoredLimits.User.devicemodel.maximum),
            deviceos: try parameters.optionalString("deviceos", length: 1...StoredLimits.User.deviceos.maximum),
            devicebrand: try parameters.optionalString("devicebrand", length: 1...StoredLimits.User.devicebrand.maximum)
        )
    }

    /// The timestamp exactly as sent: the signature covers its text.
    private static func timestamp(_ parameters: RequestParameters) throws(APIFailure) -> String {
        _ = try parameters.integer("timestamp", in: 0...Int64.max)
        return try parameters.string("timestamp")
    }
}
