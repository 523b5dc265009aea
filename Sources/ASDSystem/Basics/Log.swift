/// Where the engine reports what it does. The engine says *what* happened;
/// how it looks (colour, layout) is the implementation's business.
public protocol Log: Sendable {
    /// One line a person or the journal should see.
    func info(_ message: String)
    /// Detail shown only with DEBUG=1.
    func debug(_ message: String)
    /// Something went wrong but the operation continues.
    func warning(_ message: String)
    /// True when progress output makes sense (stdout is a terminal).
    var showsProgress: Bool { get }
    /// Replaces the current progress line; "" clears it.
    func progress(_ line: String)
}

extension Log {
    public func progress(_ line: String) {}
}

/// A log that discards everything (tests, and callers that only want the result).
struct NullLog: Log {
    init() {}
    func info(_ message: String) {}
    func debug(_ message: String) {}
    func warning(_ message: String) {}
    var showsProgress: Bool { false }
}
