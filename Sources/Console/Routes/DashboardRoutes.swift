import Hummingbird

/// `GET /` and `GET /api/dashboard`.
struct DashboardRoutes: Sendable {
    let reader: DashboardReader
    let pages: PageResponder

    func register(on router: some RouterMethods<ConsoleRequestContext>) {
        router.get("/") { request, context -> Response in
            let dashboard = try await reader.read()
            let values: [String: Any] = [
                "onlineUsers": dashboard.onlineUsers, "socketsTotal": dashboard.socketsTotal,
                "messagesLastHour": dashboard.messagesLastHour, "deadLetters": dashboard.deadLetters,
                "nodes": dashboard.nodes, "streams": dashboard.streams, "width": 600, "height": 160,
                "baseline": 150, "barWidth": 8, "max": MessageChart(minutes: dashboard.minutes).max,
                "bars": MessageChart(minutes: dashboard.minutes).bars,
            ]
            return pages.render(request, context, "dashboard", values, title: "运行概况", section: .dashboard)
        }
        router.get("api/dashboard") { _, _ -> Response in
            JSONReply.ok(try await reader.read().json)
        }
    }
}
