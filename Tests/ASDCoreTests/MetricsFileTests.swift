import Foundation
import Synchronization
import Testing
import ASDTestSupport
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// `asd.prom` as node_exporter sees it: valid text format, and always whole.
@Suite("metrics file")
struct MetricsFileTests {
    /// Debian's python3 with python3-prometheus-client (apt), if there.
    static let python: String? = ["/usr/bin/python3", Subprocess.which("python3")?.description].compactMap { $0 }.first {
        (try? Subprocess.run([$0, "-c", "import prometheus_client.parser"]))?.status == .exited(0)
    }

    static let parser = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        out = []
        for family in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
            for s in family.samples:
                out.append([family.type, s.name, s.labels, s.value])
        print(json.dumps(out))
        """

    /// The rendered file through prometheus_client's parser: every family, label and value as written.
    @Test("prometheus_client's parser reads every sample back", .enabled(if: TestPrivilege.enabled(python != nil)))
    func parsesWithPrometheusClient() throws {
        try TestPrivilege.require(Self.python != nil, "python3 with prometheus_client (apt-get install python3-prometheus-client)")
        let dir = try TemporaryDirectory()
        try dir.write("asd.prom", MetricsTests.sample.text)
        try dir.write("parse.py", Self.parser)
        let result = try Subprocess.run([Self.python!, dir.path + "/parse.py", dir.path + "/asd.prom"], captureOutput: true)
        try #require(result.status == .exited(0), "\(result.standardError)")
        let samples = try #require(JSONSerialization.jsonObject(with: Data(result.outputText.utf8)) as? [[Any]])
        func value(_ name: String, _ labels: [String: String]) -> Double? {
            samples.first { ($0[1] as? String) == name && ($0[2] as? [String: String]) == labels }?[3] as? Double
        }
        let http = ["target": "/srv/http"]
        #expect(value("asd_last_success_timestamp_seconds", http) == 1_765_000_000.75)
        #expect(value("asd_last_attempt_timestamp_seconds", http) == 1_765_003_600)
        #expect(value("asd_last_writeback_duration_seconds", http) == 0.75)
        #expect(value("asd_written_bytes_total", http) == 123_456)
        #expect(value("asd_writebacks_total", http) == 1)
        #expect(value("asd_writeback_failures_total", http) == 1)
        #expect(value("asd_last_writeback_consistent", http) == 1)
        #expect(value("asd_ram_bytes", http) == 40960)
        #expect(value("asd_target_running", http) == 1)
        let odd = ["target": "/srv/q\"uote\\back\\nline caf\\xe9"] // as FilePath.description shows it
        #expect(value("asd_target_running", odd) == 0, "\(samples.filter { ($0[1] as? String) == "asd_target_running" })")
        #expect(value("asd_crash_archives", ["config": "/etc/asd.conf"]) == 2)
        #expect(value("asd_volatile_free_bytes", ["config": "/etc/asd.conf", "volatile": "/tmp"]) == Double(1 << 30))
        #expect(value("asd_info", ["config": "/etc/asd.conf", "engine": "built-in", "overlay": "false", "version": "6.0.0"]) == 1)
        let types = Dictionary(samples.map { ($0[1] as! String, $0[0] as! String) }) { a, _ in a }
        #expect(types["asd_written_bytes_total"] == "counter" && types["asd_ram_bytes"] == "gauge")
        #expect(samples.count == 18)
    }

    /// 10,000 rewrites of different lengths while another thread reads the file
    /// as fast as it can: every read is one whole version, never a part.
    @Test("a reader never sees a partial file over 10,000 rewrites")
    func atomicRewrites() throws {
        let dir = try TemporaryDirectory(under: "/dev/shm")
        let directory = try DirectoryHandle(path: FilePath(dir.path))
        @Sendable func version(_ n: Int) -> String {
            "# begin \(n)\n" + String(repeating: "asd_sample{n=\"\(n)\"} \(n)\n", count: 1 + n % 97) + "# end \(n)\n"
        }
        try directory.replaceFile("asd.prom", tempName: ".asd.prom.tmp", contents: Array(version(0).utf8), mode: 0o644)
        let done = Atomic<Bool>(false)
        let reads = Atomic<Int>(0)
        let bad = Mutex<[String]>([])
        let path = dir.path + "/asd.prom"
        let reader = Thread {
            while !done.load(ordering: .acquiring) {
                guard let data = FileManager.default.contents(atPath: path) else {
                    bad.withLock { $0.append("the file was missing") }
                    continue
                }
                let text = String(decoding: data, as: UTF8.self)
                let n = Int(text.split(separator: "\n").first?.split(separator: " ").last ?? "") ?? -1
                if text != version(n) { bad.withLock { $0.append(text) } }
                reads.add(1, ordering: .relaxed)
            }
        }
        reader.start()
        for n in 1...10_000 {
            try directory.replaceFile("asd.prom", tempName: ".asd.prom.tmp", contents: Array(version(n).utf8), mode: 0o644)
        }
        done.store(true, ordering: .releasing)
        while !reader.isFinished { sched_yield() }
        let failures = bad.withLock { $0 }
        #expect(failures.count == 0, "partial or missing reads, e.g. \(failures.first?.prefix(200) ?? "")")
        #expect(reads.load(ordering: .relaxed) > 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["asd.prom"])
        let status = try FileOps.status(FilePath(path))
        #expect(status.permissions == 0o644)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == version(10_000))
        print("metrics file: \(reads.load(ordering: .relaxed)) whole reads during 10,000 rewrites")
    }
}
