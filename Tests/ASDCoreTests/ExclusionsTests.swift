import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// RAM_ONLY and DISK_ONLY in the parser: global and per-target patterns, and the
/// errors that name the line.
@Suite("Exclusions")
struct ExclusionsTests {
    let file: FilePath = "/etc/asd.conf"

    func load(_ text: String) throws(ASDError) -> Settings {
        try Settings.from(try ConfigFile.parse(Array(text.utf8), file: file, environment: [:]), file: file)
    }

    @Test("global patterns go to every target, an absolute path inside a target to that one, anchored")
    func patterns() throws {
        let settings = try load("""
            WHATTOSYNC=('/home/u/.mozilla' '/srv/cloud')
            RAM_ONLY=('*.swp' '/home/u/.mozilla/cache2/' '/tmp/')
            DISK_ONLY=('/srv/cloud/data/')
            """)
        let mozilla = settings.exclusions.filter(for: "/home/u/.mozilla")
        #expect(mozilla.ramOnly.map(\.text) == ["*.swp", "/cache2/", "/tmp/"])
        #expect(mozilla.diskOnly.isEmpty)
        #expect(mozilla.excludes("cache2", isDirectory: true) && !mozilla.excludes("x/cache2", isDirectory: true))
        let cloud = settings.exclusions.filter(for: "/srv/cloud")
        #expect(cloud.ramOnly.map(\.text) == ["*.swp", "/tmp/"])
        #expect(cloud.diskOnly == ["data"])
        #expect(settings.exclusions.diskOnly.first?.line == 3)
        #expect(Settings.warnings(for: try ConfigFile.parse(Array("WHATTOSYNC=(/a)\nRAM_ONLY=(x)\nDISK_ONLY=()\n".utf8), file: file, environment: [:]), file: file).isEmpty)
    }

    @Test("a DISK_ONLY entry outside every target, relative, a target itself or overlapping is an error naming the line",
          arguments: [
            "DISK_ONLY=('/srv/other/data')", "DISK_ONLY=('data')", "DISK_ONLY=('/srv/cloud')",
            "DISK_ONLY=('/srv/cloud/a' '/srv/cloud/a/b')", "DISK_ONLY=('/srv/cloud/../etc')", "RAM_ONLY=('/srv/cloud/')",
          ])
    func refused(_ line: String) {
        #expect {
            _ = try load("WHATTOSYNC=('/srv/cloud')\n\(line)\n")
        } throws: { error in
            guard let error = error as? ASDError else { return false }
            return error.description.contains("/etc/asd.conf:2:") && error.description.contains("nothing was changed")
        }
    }
}
