/// Errors the proxy reports to its operator (one line each).
public enum ProxyError: Error, CustomStringConvertible {
    case unusableLog(path: String, reason: String)
    case unusableRecording(path: String, reason: String)
    case invalidRules([String])
    case cannotListen(address: String, reason: String)
    case unsupported(String)
    case invalidTLS(String)

    public var description: String {
        switch self {
        case .unusableLog(let path, let reason): "cannot open audit log \(path): \(reason)"
        case .unusableRecording(let path, let reason): "cannot create recording \(path): \(reason)"
        case .invalidRules(let problems): problems.joined(separator: "\n")
        case .cannotListen(let address, let reason): "cannot listen on \(address): \(reason)"
        case .unsupported(let what): what
        case .invalidTLS(let reason): reason
        }
    }
}
