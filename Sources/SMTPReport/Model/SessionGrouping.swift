/// Groups audit events into sessions by their `session` id, wherever the lines of concurrent
/// sessions interleave, and orders the sessions by their first event.
public enum SessionGrouping {
    public static func sessions(from events: [LoggedEvent]) -> [ReportSession] {
        var sessions: [ReportSession] = []
        var index: [String: Int] = [:]
        var lastTime: Int64 = 0
        for event in events {
            // A line without a readable time keeps its place: it takes the time before it.
            let time = RFC3339.microseconds(event.ts) ?? lastTime
            lastTime = time
            let position: Int
            if let known = index[event.session] {
                position = known
            } else {
                position = sessions.count
                index[event.session] = position
                sessions.append(ReportSession(id: event.session, start: time))
            }
            sessions[position].add(event, at: time)
        }
        // Stable: sessions that start together keep their log order.
        return sessions.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
    }
}
