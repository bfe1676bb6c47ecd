import Metrics

/// `chat_quota_refusals_total{quota=…}`: requests refused because one user or one group
/// reached a quota (docs/operations.md, *Quotas*). One counter per quota, made once.
package enum QuotaRefusals {
    /// A send over the sender's rate (lua/lib/rate.lua).
    package static let sendRate = Counter(label: "chat_quota_refusals_total", dimensions: [("quota", "send_rate")])
    /// A group create, invitation or join beyond the members per group.
    package static let groupMembers = Counter(label: "chat_quota_refusals_total", dimensions: [("quota", "group_members")])
    /// An upload beyond the uploads per user per day.
    package static let uploadsPerDay = Counter(label: "chat_quota_refusals_total", dimensions: [("quota", "uploads_per_day")])
}
