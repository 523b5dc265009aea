/// Test trees built by bash inside a scenario (root privileges, tools: coreutils, attr,
/// acl). Paths are bash words (`"$DATA/t"`). No hard links: asd refuses them by default.
enum Fixture {
    /// A name holding a newline: the manifest handles it (NUL-separated records).
    static let newlineName = "new\nline"

    /// Every kind of entry and metadata asd must carry through tmpfs and back:
    /// nested and empty dirs; files of 0 B, 4 KiB and 1 MiB; relative, absolute and
    /// dangling symlinks and one to a dir; a fifo; a char device; names with spaces,
    /// é, 日本語, a leading dash and a newline; hidden entries; modes 0600, 0755, 4755,
    /// 1777, 2775, 0750; owners nobody (65534), daemon (1) and a bare uid 1234;
    /// user.* xattrs on a file, a dir and a binary value; an access ACL and a default
    /// ACL; nanosecond mtimes on files, a symlink and every directory.
    static func rich(at root: String) -> String {
        """
        mkdir -p "\(root)"
        (
            cd "\(root)"
            chmod 0755 .
            mkdir -p a/b/c empty "dir with space" sticky setgid nobody-dir acl-dir .config/app
            printf 'hello\\n' >a/hello.txt
            : >empty.txt
            head -c 4096 /dev/zero | tr '\\0' z >a/b/4k.bin
            { seq 1 300000 || true; } | head -c 1048576 >a/b/c/1M.bin
            printf 'space' >"dir with space/file with space.txt"
            printf 'e' >café-é.txt
            printf 'j' >日本語.txt
            printf 'dash' >./-leading-dash
            printf 'nl' >"$(printf 'new\\nline')"
            printf 'hidden' >.hidden
            printf 'conf' >.config/app/settings.ini
            ln -s a/hello.txt rel-link
            ln -s /etc/hostname abs-link
            ln -s does/not/exist dangling-link
            ln -s a dir-link
            mkfifo fifo
            mknod null-dev c 1 3
            printf 'secret' >secret && chmod 0600 secret
            printf '#!/bin/sh\\n' >tool && chmod 0755 tool
            printf 'suid' >setuid && chmod 4755 setuid
            chmod 1777 sticky
            chmod 2775 setgid
            printf 'n' >nobody-dir/owned-nobody && chown 65534:65534 nobody-dir/owned-nobody
            chown 65534:65534 nobody-dir && chmod 0750 nobody-dir
            printf 'd' >owned-daemon && chown 1:1 owned-daemon
            printf 'k' >owned-numeric && chown 1234:1234 owned-numeric
            chown -h 65534:65534 dangling-link
            setfattr -n user.test -v value a/hello.txt
            setfattr -n user.test -v dirvalue a
            setfattr -n user.binary -v 0x00ff10 a/b/4k.bin
            printf 'acl' >acl-file && chmod 0640 acl-file && setfacl -m u:daemon:r acl-file
            setfacl -d -m u:daemon:rx acl-dir
            touch -h -d @1577934245.123456789 a/hello.txt rel-link
            touch -d @1557126489.987654321 a/b/c/1M.bin
            touch -d @1600000000.000000001 empty.txt
            touch -d @1500000000.5 secret setuid tool
            find . -depth -type d -exec touch -d @1614834367.250000001 {} +
        )
        """
    }

    /// A few plain files and a subdirectory, for tests about the lifecycle not metadata.
    static func small(at root: String) -> String {
        """
        mkdir -p "\(root)/sub"
        printf 'one\\n' >"\(root)/one.txt"
        printf 'two\\n' >"\(root)/sub/two.txt"
        touch -d @1577934245.5 "\(root)/one.txt" "\(root)/sub/two.txt" "\(root)/sub" "\(root)"
        """
    }

    /// Changes of every kind a user makes while the target lives in tmpfs: modify,
    /// add, delete, chmod, chown, rename, add an xattr, a new dir, and a rewrite keeping
    /// size and mtime second but not nanoseconds (doc/DESIGN.md §6.2: needs ns comparison).
    static func changes(in root: String) -> String {
        """
        (
            cd "\(root)"
            printf 'changed\\n' >>a/hello.txt
            printf 'new file' >added.txt
            mkdir -p added-dir/deeper && printf 'deep' >added-dir/deeper/f
            rm -f empty.txt
            rm -rf empty
            chmod 0640 tool
            chown 1:1 secret
            mv "dir with space" "renamed dir"
            setfattr -n user.added -v yes setuid
            printf 'AAAA' >same-second && touch -d @1700000000.100000000 same-second
        )
        """
    }

    /// The second half of the same-second rewrite; run after a resync of `changes`.
    static func sameSecondRewrite(in root: String) -> String {
        """
        printf 'BBBB' >"\(root)/same-second" && touch -d @1700000000.200000000 "\(root)/same-second"
        """
    }
}
