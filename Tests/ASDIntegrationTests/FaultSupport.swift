@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import ASDTestSupport
import Foundation
import Testing

/// Big trees for the fault-injection suites: large enough that a kill lands mid-copy,
/// generated in about a second (`split` of /dev/urandom) and checked by per-file
/// CRC-32 (`cksum -a crc`, ~2 GB/s; SHA-256 in coreutils is ~10x slower and would
/// dominate the suite's runtime — for telling a torn or mixed file of random data
/// from a whole one, a 32-bit CRC plus the size is ample).
enum BigTree {
    /// `bigFiles` files of 2 MiB in `big/` plus `smallDirs` dirs of 300 files of 1000 B.
    static func create(at root: String, bigFiles: Int = 150, smallDirs: Int = 10) -> String {
        """
        mkdir -p "\(root)/big"
        head -c \(bigFiles * 2)M /dev/urandom | split -b 2M -a 3 - "\(root)/big/f."
        for d in $(seq 0 \(smallDirs - 1)); do
            mkdir -p "\(root)/small/d$d"
            head -c 300000 /dev/urandom | split -b 1000 -a 3 - "\(root)/small/d$d/s."
        done
        """
    }

    /// What a user does between two write-backs (round `k`): rewrites a third of the
    /// big files (~100 MiB, in place, as an editor or database would), appends to the
    /// files of one small dir, deletes another small dir, adds 40 MiB of new files and a dir
    /// (new files share no inode with the snapshot: a plain copy, not an inode replacement).
    static func modify(in root: String, round k: Int) -> String {
        """
        (
            cd "\(root)"
            n=0
            for f in big/f.*; do
                n=$((n + 1))
                if ((n % 3 == \(k % 3))); then head -c 2M /dev/urandom >"$f"; fi
            done
            head -c 40M /dev/urandom | split -b 2M -a 2 - big/added\(k).
            rm -rf small/d\(k)
            for f in small/d\(k + 5)/*; do printf 'round \(k)\\n' >>"$f"; done
            mkdir -p small/new\(k) && head -c 100000 /dev/urandom | split -b 1000 -a 2 - small/new\(k)/n.
        )
        """
    }
}

/// Every entry of a tree and the CRC-32 and size of each regular file, recorded
/// inside the namespace by `Scenario.recordContent` and read back from `$OUT/content`.
struct ContentManifest: Equatable, Sendable {
    struct File: Equatable, Sendable {
        let crc: String
        let size: String
    }

    /// Path (relative, no "./") to find's type letter, for every entry below the root.
    let entries: [String: String]
    let files: [String: File]

    init(sandbox: Sandbox, label: String) throws {
        let base = sandbox.out + "/content/" + label
        guard let list = FileManager.default.contents(atPath: base + ".list"),
              let sums = FileManager.default.contents(atPath: base + ".crc")
        else { throw HarnessError("no content manifest '\(label)' (the scenario stopped before it?)") }
        let fields = list.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        var entries: [String: String] = [:]
        var index = 0
        while index + 1 < fields.count {
            entries[fields[index + 1]] = fields[index]
            index += 2
        }
        var files: [String: File] = [:]
        for record in sums.split(separator: 0) {
            let parts = String(decoding: record, as: UTF8.self).split(separator: " ", maxSplits: 2)
            guard parts.count == 3 else { throw HarnessError("bad cksum line in \(label): \(parts)") }
            files[String(parts[2])] = File(crc: String(parts[0]), size: String(parts[1]))
        }
        self.entries = entries
        self.files = files
    }

    init(entries: [String: String], files: [String: File]) {
        self.entries = entries
        self.files = files
    }

    /// Without `.flagged` (the running marker seen through the tmpfs view).
    var withoutFlag: ContentManifest {
        var entries = self.entries, files = self.files
        entries[".flagged"] = nil
        files[".flagged"] = nil
        return ContentManifest(entries: entries, files: files)
    }

    /// Names that only a temporary file would have: rsync's `.name.XXXXXX` and the
    /// engine's `.asd-tmp-*`.
    var temporaryEntries: [String] {
        let rsyncTemp = try! Regex("^\\..+\\.[A-Za-z0-9]{6}$")
        return entries.keys.filter { path in
            let name = String(path.split(separator: "/").last ?? "")
            return name.hasPrefix(".asd-tmp") || (try? rsyncTemp.wholeMatch(in: name)) != nil
        }.sorted()
    }

    /// Why this tree (on disk after a crash during a write-back) is not an acceptable
    /// mix of `before` (the disk state the write-back started from) and `after` (the
    /// tmpfs state it was writing): every file of `before` kept by the user must be there
    /// whole in one of its two versions, files the user deleted or added may or may not
    /// be there but only whole, and nothing else may exist. Empty when acceptable.
    func problems(before: ContentManifest, after: ContentManifest) -> [String] {
        var lines: [String] = []
        for (path, old) in before.files {
            if let new = after.files[path] {
                guard let now = files[path] else { lines.append("\(path): lost (was on disk before)"); continue }
                if now != old && now != new { lines.append("\(path): torn: \(now) is neither \(old) nor \(new)") }
            } else if let now = files[path], now != old {
                lines.append("\(path): deleted by the user, but on disk as neither version: \(now)")
            }
        }
        for (path, new) in after.files where before.files[path] == nil {
            if let now = files[path], now != new { lines.append("\(path): added by the user, on disk torn: \(now)") }
        }
        for (path, kind) in entries where before.entries[path] == nil && after.entries[path] == nil {
            lines.append("\(path): unexpected \(kind) entry (a temporary file?)")
        }
        for path in temporaryEntries { lines.append("\(path): temporary file inside the target") }
        return lines.sorted()
    }

    /// Every difference from `other` (expected), for exact comparisons.
    func differences(from expected: ContentManifest) -> [String] {
        var lines: [String] = []
        for path in Set(entries.keys).union(expected.entries.keys).sorted() where entries[path] != expected.entries[path] {
            lines.append("\(path): \(entries[path] ?? "absent") vs expected \(expected.entries[path] ?? "absent")")
        }
        for path in Set(files.keys).union(expected.files.keys).sorted() where files[path] != expected.files[path] {
            lines.append("\(path): content \(files[path].map { "\($0)" } ?? "absent") vs expected \(expected.files[path].map { "\($0)" } ?? "absent")")
        }
        return lines
    }
}

/// Records one issue with the first lines of `problems`.
func expectNoProblems(_ problems: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    if !problems.isEmpty {
        let shown = problems.prefix(25).joined(separator: "\n  ") + (problems.count > 25 ? "\n  …" : "")
        Issue.record("\(what): \(problems.count) problem(s):\n  \(shown)", sourceLocation: sourceLocation)
    }
}

extension Scenario {
    /// Records a `ContentManifest` of the tree at `path` as `label`.
    func recordContent(_ path: String, as label: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        shell("""
            mkdir -p "$OUT/content"
            (cd "\(path)" && find . -mindepth 1 -printf '%y\\0%P\\0') >"$OUT/content/\(label).list"
            (cd "\(path)" && find . -type f -printf '%P\\0' | xargs -0 -r cksum -a crc -z --) >"$OUT/content/\(label).crc"
            """, sourceLocation: sourceLocation)
    }

    /// Lists the crash archives of `paths` (one name per line in `$OUT/content/LABEL.archives`);
    /// when there is exactly one, extracts it (zstd | tar with xattrs and ACLs) into a
    /// scratch tmpfs and records its content as `LABEL-archive` (and, with `tree`, a full
    /// `TreeManifest` as `LABEL-archive`). With `remove`, deletes the archives afterwards.
    func inspectArchives(
        of paths: SandboxPaths, as label: String, tree: Bool = false, remove: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Scenario {
        let snapshotName = String(paths.snapshot.split(separator: "/").last!)
        let pattern = "\"\(paths.parent)/\(paths.archivePrefix)\"*"
        var script = """
            mkdir -p "$OUT/content" "$SANDBOX/scratch"
            (
                shopt -s nullglob
                archives=(\(pattern))
                printf '%s\\n' "${archives[@]##*/}" | grep -v '^$' >"$OUT/content/\(label).archives" || true
                if ((${#archives[@]} == 1)); then
                    mount -t tmpfs -o size=2g asd-itest-scratch "$SANDBOX/scratch"
                    zstd -q -dc "${archives[0]}" |
                        tar -x --xattrs --xattrs-include='*' --acls --numeric-owner -C "$SANDBOX/scratch"
            """
        script += "\n" + recordContentScript("$SANDBOX/scratch/\(snapshotName)", label: label + "-archive")
        if tree { script += "\nasd_manifest \"$SANDBOX/scratch/\(snapshotName)\" \"$OUT/trees/\(label)-archive\"" }
        script += """

                    umount "$SANDBOX/scratch"
                fi
                \(remove ? "rm -f \"${archives[@]}\"" : "true")
            )
            """
        return shell(script, sourceLocation: sourceLocation)
    }

    private func recordContentScript(_ path: String, label: String) -> String {
        """
        (cd "\(path)" && find . -mindepth 1 -printf '%y\\0%P\\0') >"$OUT/content/\(label).list"
        (cd "\(path)" && find . -type f -printf '%P\\0' | xargs -0 -r cksum -a crc -z --) >"$OUT/content/\(label).crc"
        """
    }
}

extension Sandbox {
    /// Archive names listed by `Scenario.inspectArchives` under `label`.
    /// Throws when the scenario never captured them: a missing list is not "no archives".
    func archiveNames(_ label: String) throws -> [String] {
        let text = try String(contentsOfFile: out + "/content/\(label).archives", encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    /// Writes `$SANDBOX/NAME` and returns its path (for `Scenario.asd(binary:)`): the
    /// binary under test run by util-linux setpriv without CAP_DAC_OVERRIDE and
    /// CAP_DAC_READ_SEARCH (dropped from the bounding and inheritable sets, so the exec'd
    /// root process never has them): root is then held to file modes like any user, and a
    /// mode-000 file of another owner cannot be read by whatever copies it. With
    /// `mountDelay`, strace also delays the return of each of asd's own mount(2) calls by
    /// that many seconds (a window in which a test can act between two steps).
    func asdWithoutDACOverride(named name: String = "nodac-asd", mountDelay: Double? = nil) throws -> String {
        guard let setpriv = Executable.find("setpriv") else {
            throw HarnessError("setpriv (util-linux) is needed to drop asd's DAC capabilities; install util-linux.")
        }
        let caps = "-dac_override,-dac_read_search"
        var command = "exec \(setpriv) --bounding-set \(caps) --inh-caps \(caps) -- "
        if let mountDelay {
            guard let strace = Executable.find("strace") else {
                throw HarnessError("strace is needed to slow asd down between steps; install it (apt-get install strace).")
            }
            command += "\(strace) -qq -o /dev/null -e trace=mount -e inject=mount:delay_exit=\(Int(mountDelay * 1_000_000)) "
        }
        command += shellQuote(try Executable.asd()) + " \"$@\""
        let path = root + "/" + name
        try ("#!/bin/bash\n" + command + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }
}

extension SandboxPaths {
    /// Bash condition: a write-back has begun writing a file named like glob `name` (a
    /// bash double-quoted word: variables expand) into the directory `dir` of the disk
    /// copy: a temp file whose name contains such a name is in the temp dir (any depth),
    /// or the file is already in the disk copy. Holds for any copier that writes through
    /// temp files there or straight into the disk copy.
    func arriving(_ name: String, in dir: String) -> String {
        "[[ -n \"$( { find \"\(tempDirectory)\" -name \"*\(name)*\" -print -quit; "
            + "find \"\(diskCopy)/\(dir)\" -maxdepth 1 -name \"\(name)\" -print -quit; } 2>/dev/null)\" ]]"
    }

    /// Bash condition: the tmpfs copy holds at least one regular file (a sync's copy
    /// into tmpfs has begun).
    var fillingTmpfs: String {
        "[[ -n \"$(find \"\(tmpfsCopy)\" -type f -print -quit 2>/dev/null)\" ]]"
    }
}

/// A system call's number on this machine's architecture, as /proc/PID/syscall shows
/// it (-1 elsewhere: a test waiting for it then times out).
func syscallNumber(x86_64: Int, arm64: Int) -> Int {
    #if arch(x86_64)
    return x86_64
    #elseif arch(arm64)
    return arm64
    #else
    return -1
    #endif
}
