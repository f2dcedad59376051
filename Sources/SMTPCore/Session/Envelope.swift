/// The transaction as the upstream accepted it: updated from replies, in order.
struct Envelope: Sendable {
    var mailFrom: String
    var rcptTo: [String] = []
}
