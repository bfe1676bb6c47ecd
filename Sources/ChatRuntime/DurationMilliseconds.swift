extension Duration {
    /// Whole milliseconds: what Redis TTLs, script arguments and log lines take.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
