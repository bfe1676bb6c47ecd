import Foundation

/// The geometry of the dashboard's bar chart (messages per minute), computed here so
/// that the template only places numbers: one bar per minute, scaled to the busiest.
struct MessageChart {
    let width = 600
    let height = 160
    let baseline = 150
    let barWidth = 8
    let max: Int
    let bars: [Bar]

    struct Bar {
        let x: Int
        let y: Int
        let barHeight: Int
        let count: Int
        /// The minute as `HH:mm` (UTC).
        let label: String
    }

    init(minutes: [Dashboard.Minute]) {
        let busiest = minutes.map(\.count).max() ?? 0
        max = busiest
        let step = minutes.isEmpty ? 10 : 600 / minutes.count
        let scale = Double(baseline - 16) / Double(Swift.max(1, busiest))
        bars = minutes.enumerated().map { index, minute in
            let barHeight = minute.count == 0 ? 0 : Swift.max(1, Int((Double(minute.count) * scale).rounded()))
            let minuteOfDay = Int(minute.minute % 1440)
            let label = String(format: "%02d:%02d", minuteOfDay / 60, minuteOfDay % 60)
            return Bar(x: index * step + 1, y: 150 - barHeight, barHeight: barHeight, count: minute.count, label: label)
        }
    }
}
