import Foundation
import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// The metrics' counters, their text format and METRICS_DIR.
@Suite("metrics")
struct MetricsTests {
    static func outcome(_ target: FilePath, at start: Double, succeeded end: Double?, bytes: UInt64 = 0) -> WriteBackOutcomes.Outcome {
        var outcome = WriteBackOutcomes.Outcome(target: target, startedAt: start)
        outcome.succeededAt = end
        outcome.durationSeconds = end.map { $0 - start }
        outcome.bytesWritten = end == nil ? nil : bytes
        return outcome
    }

    @Test("a success moves every figure; a failure only the attempt time and the failure count")
    func applyOutcomes() {
        var state = MetricsState()
        state.apply([Self.outcome("/srv/a", at: 100, succeeded: 102.5, bytes: 4096)])
        let before = state.targets["/srv/a"]!
        #expect(before.lastSuccess == 102.5 && before.lastAttempt == 100 && before.lastDuration == 2.5)
        #expect(before.writtenBytes == 4096 && before.successes == 1 && before.failures == 0)
        state.apply([Self.outcome("/srv/a", at: 200, succeeded: nil)])
        var expected = before
        expected.lastAttempt = 200
        expected.failures = 1
        #expect(state.targets["/srv/a"] == expected)
        state.noteSynced("/srv/b", at: 300)
        #expect(state.targets["/srv/b"]?.lastSuccess == 300 && state.targets["/srv/b"]?.lastAttempt == nil)
    }

    @Test("the counters file reads back what was written, odd target names included")
    func stateRoundTrip() {
        var state = MetricsState()
        state.apply([Self.outcome("/srv/a b", at: 1_765_000_000.25, succeeded: 1_765_000_001.5, bytes: 1 << 40),
                     Self.outcome(FilePath(bytes: Array("/srv/caf".utf8) + [0xE9, 0x0A, 0x5C]), at: 7, succeeded: nil)])
        state.targets["/srv/a b"]?.lastWriteBackConsistent = false
        #expect(MetricsState.parse(state.bytes) == state)
        #expect(MetricsState.parse(Array("v2 1 2 3 4 5 6 - /x\nv1 - - - x 0 0 - /y\ngarbage\n".utf8)) == MetricsState())
    }

    @Test("METRICS_DIR", arguments: [
        (nil, MetricsDirectory.automatic), ("", .off), ("/srv/metrics/", .directory("/srv/metrics")),
        ("/", .directory("/")), ("metrics", .invalid("metrics")),
    ] as [(String?, MetricsDirectory)])
    func metricsDirectory(value: String?, expected: MetricsDirectory) {
        #expect(MetricsDirectory(value.map { FilePath($0) }) == expected)
    }

    @Test("only the default directory depends on existing; the file is named after the instance")
    func resolved() {
        #expect(MetricsDirectory.automatic.resolved { _ in true } == "/var/lib/prometheus/node-exporter")
        #expect(MetricsDirectory.automatic.resolved { _ in false } == nil)
        #expect(MetricsDirectory.directory("/x").resolved { _ in false } == "/x")
        #expect(MetricsDirectory.off.resolved { _ in true } == nil)
        #expect(MetricsDirectory.invalid("x").resolved { _ in true } == nil)
        #expect(MetricsDirectory.fileName(instance: "asd") == "asd.prom")
        #expect(MetricsDirectory.fileName(instance: "asd-0123456789abcdef") == "asd-0123456789abcdef.prom")
    }

    @Test("the config: METRICS_DIR is known, a relative one is a warning naming the line")
    func configKey() throws {
        let good = try ConfigFile.parse(Array("WHATTOSYNC=(/srv)\nMETRICS_DIR=/srv/m\n".utf8), file: "/etc/asd.conf", environment: [:])
        #expect(try Settings.from(good, file: "/etc/asd.conf").metricsDirectory == .directory("/srv/m"))
        #expect(Settings.warnings(for: good, file: "/etc/asd.conf").isEmpty)
        let bad = try ConfigFile.parse(Array("WHATTOSYNC=(/srv)\n\nMETRICS_DIR=m\n".utf8), file: "/etc/asd.conf", environment: [:])
        let warnings = Settings.warnings(for: bad, file: "/etc/asd.conf")
        #expect(warnings.count == 1 && warnings[0].hasPrefix("/etc/asd.conf:3: METRICS_DIR=m is not an absolute path"), "\(warnings)")
    }

    static let sample: MetricsSnapshot = {
        var state = MetricsState()
        state.apply([outcome("/srv/http", at: 1_765_000_000, succeeded: 1_765_000_000.75, bytes: 123_456),
                     outcome("/srv/http", at: 1_765_003_600, succeeded: nil)])
        state.targets["/srv/http"]?.lastWriteBackConsistent = true
        return MetricsSnapshot(
            host: .init(config: "/etc/asd.conf", version: "6.0.0", engine: "built-in", overlay: false, volatile: "/tmp",
                        volatileFreeBytes: 1 << 30, volatileSizeBytes: 2 << 30, crashArchives: 2),
            targets: [
                .init(path: "/srv/http", running: true, ramBytes: 40960, state: state.targets["/srv/http"]!),
                .init(path: FilePath(bytes: Array("/srv/q\"uote\\back\nline caf".utf8) + [0xE9]), running: false, ramBytes: 0,
                      state: MetricsState.Target()),
            ])
    }()

    @Test("names follow Prometheus' conventions; every family has HELP and TYPE")
    func conventions() {
        var types: [String: String] = [:]
        var helped: Set<String> = []
        for line in Self.sample.text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if line.hasPrefix("# TYPE ") { types[String(words[2])] = String(words[3]) }
            else if line.hasPrefix("# HELP ") { helped.insert(String(words[2])) }
            else {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(types[name] != nil && helped.contains(name), "\(name) sampled before its TYPE/HELP")
            }
        }
        for (name, type) in types {
            #expect(name.hasPrefix("asd_"))
            #expect((type == "counter") == name.hasSuffix("_total"), "\(name) is a \(type)")
            #expect(!name.contains("milli") && !name.contains("kilo"), "\(name): not a base unit")
        }
        #expect(types.count == 13)
    }
}
