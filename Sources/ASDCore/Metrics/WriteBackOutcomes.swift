import ASDSystem
import Synchronization

/// What each write-back attempt of this run did, noted by `Engine.writeBack`
/// (its start and, once the data is durable, its end) for the metrics
/// (`MetricsState`, doc/DESIGN.md §10). An attempt that began and
/// never succeeded is a failure, whatever stopped it.
final class WriteBackOutcomes: Sendable {
    struct Outcome: Equatable, Sendable {
        var target: FilePath
        /// Seconds since the epoch when the attempt began.
        var startedAt: Double
        /// Seconds since the epoch when its data was durable; nil: it failed.
        var succeededAt: Double?
        /// Wall time of a successful attempt, measured on the monotonic clock.
        var durationSeconds: Double?
        /// What it sent towards the disk (`ResourceUsage.bytesWritten`).
        var bytesWritten: UInt64?
        /// Whether the files written existed together at one instant in RAM;
        /// nil until the write-back can tell (the hook for a consistent write-back).
        var lastWriteBackConsistent: Bool?

        var succeeded: Bool { succeededAt != nil }
    }

    /// Returned by `begin`, handed to `succeeded`.
    struct Attempt: Sendable {
        let index: Int
        let monotonicStart: Int64
        let bytesBefore: UInt64
    }

    private let outcomes = Mutex<[Outcome]>([])

    init() {}

    /// Notes that a write-back of `target` begins now.
    func begin(_ target: FilePath) -> Attempt {
        let now = Double(Clock.realtimeMicroseconds()) / 1e6
        let index = outcomes.withLock {
            $0.append(Outcome(target: target, startedAt: now))
            return $0.count - 1
        }
        return Attempt(index: index, monotonicStart: Clock.monotonicMicroseconds(),
                       bytesBefore: ResourceUsage.bytesWritten())
    }

    /// Notes that `attempt` ended with its data durable on disk.
    /// `consistent`: see `Outcome.lastWriteBackConsistent`.
    func succeeded(_ attempt: Attempt, consistent: Bool? = nil) {
        let end = Double(Clock.realtimeMicroseconds()) / 1e6
        let duration = Double(Clock.monotonicMicroseconds() - attempt.monotonicStart) / 1e6
        let bytes = ResourceUsage.bytesWritten()
        outcomes.withLock {
            $0[attempt.index].succeededAt = end
            $0[attempt.index].durationSeconds = max(0, duration)
            $0[attempt.index].bytesWritten = bytes >= attempt.bytesBefore ? bytes - attempt.bytesBefore : 0
            $0[attempt.index].lastWriteBackConsistent = consistent
        }
    }

    /// Every attempt so far, in the order they began.
    var all: [Outcome] { outcomes.withLock { $0 } }
}
