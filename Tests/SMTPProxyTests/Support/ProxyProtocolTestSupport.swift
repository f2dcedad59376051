import Foundation

/// Runs blocking work (sockets, child processes, polling) on a thread of its own and awaits it, so
/// the test never blocks a thread of Swift's small cooperative pool, which the other suites share.
func onThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
