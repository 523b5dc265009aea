"""What the power-loss guest boots: Debian's kernel (from the linux-image-amd64
package, unpacked with dpkg-deb, so the host's /boot is never touched), a tiny
initramfs (static busybox + the modules Debian builds as modules), and a raw ext4
root image (`mkfs.ext4 -d`) of a debootstrapped bookworm holding asd and the
guest's test programs. Root file system and kernel are cached in /var/cache/asd-test."""
import glob
import gzip
import lzma
import os
import re
import shutil
import subprocess

SUITE = "bookworm"
PACKAGES = "python3,rsync,zstd,tar,util-linux,attr,acl,procps,e2fsprogs,libstdc++6"
CACHE_DIR = os.environ.get("ASD_POWERLOSS_CACHE", "/var/cache/asd-test")
ROOTFS_CACHE = os.path.join(CACHE_DIR, "rootfs-%s-powerloss.tar.zst" % SUITE)
# Load order matters: insmod does not resolve dependencies.
MODULES = ["drivers/virtio/virtio_ring", "drivers/virtio/virtio", "drivers/virtio/virtio_pci_legacy_dev",
           "drivers/virtio/virtio_pci_modern_dev", "drivers/virtio/virtio_pci", "drivers/block/virtio_blk",
           "lib/crc16", "crypto/crc32c_generic", "fs/mbcache", "fs/jbd2/jbd2", "fs/ext4/ext4",
           "fs/overlayfs/overlay"]
# The file system of the second disk holding /srv (ASD_POWERLOSS_FS); its module and
# the modules it depends on (from their .modinfo) are loaded after MODULES.
FS_MODULES = {"ext4": [], "btrfs": ["fs/btrfs/btrfs"], "xfs": ["fs/xfs/xfs"]}
# The zram boot test (Tests/systemd/zram-boot-test.sh) installs these in the guest's
# /lib/modules (modprobe, and the kernel's request_module for an algorithm), not in the
# initramfs; one that the kernel has built in is skipped.
ZRAM_MODULES = ["drivers/block/zram/zram", "crypto/lz4", "crypto/lzo-rle", "crypto/lzo", "crypto/zstd"]
HERE = os.path.dirname(os.path.abspath(__file__))


def log(text):
    print("powerloss: %s" % text, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def debian_mirror():
    if os.environ.get("ASD_DEBIAN_MIRROR"):
        return os.environ["ASD_DEBIAN_MIRROR"]
    for path in glob.glob("/etc/apt/sources.list.d/*.sources"):
        for line in open(path):
            if line.startswith("URIs:"):
                for uri in line.split()[1:]:
                    if uri.rstrip("/").endswith("/debian"):
                        return uri
    return "http://deb.debian.org/debian"


def ensure_rootfs(work):
    """The cached debootstrap of SUITE with PACKAGES (rebuilt when the list changes)."""
    stamp = "%s %s" % (SUITE, PACKAGES)
    info = ROOTFS_CACHE + ".info"
    if os.path.exists(ROOTFS_CACHE) and os.path.exists(info) and open(info).read().strip() == stamp:
        return
    os.makedirs(CACHE_DIR, exist_ok=True)
    root = os.path.join(work, "bootstrap")
    mirror = debian_mirror()
    log("debootstrap %s from %s (cached afterwards in %s)" % (SUITE, mirror, ROOTFS_CACHE))
    with open(os.path.join(work, "debootstrap.log"), "w") as out:
        sh(["debootstrap", "--variant=minbase", "--include=" + PACKAGES, SUITE, root, mirror],
           stdout=out, stderr=subprocess.STDOUT)
    for junk in glob.glob(root + "/var/cache/apt/archives/*.deb") + glob.glob(root + "/var/lib/apt/lists/*_*"):
        os.unlink(junk)
    sh("tar -C '%s' --numeric-owner --xattrs --acls -cf - . | zstd -q -T0 -f -o '%s.tmp'" % (root, ROOTFS_CACHE),
       shell=True)
    os.replace(ROOTFS_CACHE + ".tmp", ROOTFS_CACHE)
    with open(info, "w") as f:
        f.write(stamp + "\n")
    shutil.rmtree(root)


def ensure_kernel(work, fs="ext4"):
    """(vmlinuz, modules dir, module load order) of the kernel linux-image-amd64
    depends on, cached; the order is MODULES, then `fs`'s module after its dependencies."""
    package = None
    try:
        deps = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], check=True,
                              capture_output=True, text=True).stdout
        package = next(l.split()[1] for l in deps.splitlines()
                       if l.strip().startswith("Depends: linux-image-") and l.split()[1][12:13].isdigit())
    except (subprocess.CalledProcessError, StopIteration, FileNotFoundError):
        cached = sorted(glob.glob(os.path.join(CACHE_DIR, "kernel-linux-image-*")))
        if not cached:
            raise RuntimeError("cannot resolve linux-image-amd64 (apt-get update?) and no kernel is cached")
        package = os.path.basename(cached[-1])[len("kernel-"):]
    home = os.path.join(CACHE_DIR, "kernel-" + package)
    vmlinuz = os.path.join(home, "vmlinuz")
    base = [os.path.basename(m) for m in MODULES]
    wanted = ZRAM_MODULES if fs == "zram" else FS_MODULES[fs]
    order_file = os.path.join(home, "modules", "order-" + fs)
    if os.path.exists(vmlinuz) and (not wanted or os.path.exists(order_file)):
        extra = open(order_file).read().split() if wanted else []
        return vmlinuz, os.path.join(home, "modules"), base + extra
    log("fetching %s with apt-get download" % package)
    dl = os.path.join(work, "kernel-dl")
    os.makedirs(dl)
    os.chmod(dl, 0o777)  # apt-get download drops privileges to _apt
    sh(["apt-get", "download", package], cwd=dl, stdout=subprocess.DEVNULL)
    deb = glob.glob(os.path.join(dl, "*.deb"))[0]
    tree = os.path.join(dl, "x")
    sh(["dpkg-deb", "-x", deb, tree])
    kernel_dir = glob.glob(tree + "/lib/modules/*/kernel")[0]
    if not os.path.exists(vmlinuz):
        staging = home + ".tmp"
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(os.path.join(staging, "modules"))
        shutil.copy(glob.glob(tree + "/boot/vmlinuz-*")[0], os.path.join(staging, "vmlinuz"))
        for m in MODULES:
            copy_module(kernel_dir, m, os.path.join(staging, "modules"), package)
        os.rename(staging, home)
    extra = []
    if wanted:
        extra = [n for n in resolve_modules(kernel_dir, wanted) if n not in base]
        for name in extra:
            copy_module(kernel_dir, module_index(kernel_dir)[name], os.path.join(home, "modules"), package)
        with open(order_file + ".tmp", "w") as f:
            f.write("\n".join(extra) + "\n")
        os.replace(order_file + ".tmp", order_file)
    shutil.rmtree(dl)
    return vmlinuz, os.path.join(home, "modules"), base + extra


def module_index(kernel_dir):
    """Module name -> its path under kernel/ without the .ko (or .ko.xz) suffix."""
    index = {}
    for root, _, files in os.walk(kernel_dir):
        for f in files:
            for suffix in (".ko", ".ko.xz"):
                if f.endswith(suffix):
                    rel = os.path.relpath(os.path.join(root, f), kernel_dir)[:-len(suffix)]
                    index[f[:-len(suffix)].replace("-", "_")] = rel
    return index


def module_bytes(kernel_dir, rel):
    if os.path.exists(os.path.join(kernel_dir, rel + ".ko")):
        return open(os.path.join(kernel_dir, rel + ".ko"), "rb").read()
    if os.path.exists(os.path.join(kernel_dir, rel + ".ko.xz")):
        return lzma.decompress(open(os.path.join(kernel_dir, rel + ".ko.xz"), "rb").read())
    return None


def resolve_modules(kernel_dir, wanted):
    """Names of `wanted` and what they depend on (the `depends=` of each module's
    .modinfo, as modinfo -F depends shows it), dependencies first: insmod order."""
    index, order = module_index(kernel_dir), []

    def visit(name):
        data = module_bytes(kernel_dir, index[name])
        found = re.search(rb"(?:^|\0)depends=([^\0]*)", data)
        for dep in (found.group(1).split(b",") if found else []):
            if dep:
                visit(dep.decode().replace("-", "_"))
        if name not in order:
            order.append(name)
    for rel in wanted:
        name = os.path.basename(rel).replace("-", "_")
        if name in index:  # else built into the kernel
            visit(name)
    return order


def copy_module(kernel_dir, rel, dest, package):
    """The module, uncompressed (busybox's insmod takes plain .ko), as dest/<name>.ko."""
    data = module_bytes(kernel_dir, rel)
    if data is None:
        raise RuntimeError("%s has no %s.ko" % (package, rel))
    with open(os.path.join(dest, os.path.basename(rel) + ".ko"), "wb") as f:
        f.write(data)


def cpio_newc(entries):
    """An uncompressed newc cpio archive of (name, mode, data) entries."""
    out = bytearray()
    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], start=1):
        encoded = name.encode() + b"\0"
        header = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0))
        out += header.encode() + encoded
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def build_initramfs(work, modules, order):
    busybox = shutil.which("busybox") or "/bin/busybox"
    data = open(busybox, "rb").read()
    if b"/lib64/ld-linux" in data[:4096]:  # has an ELF interpreter: dynamically linked
        raise RuntimeError("%s is not static (apt-get install busybox-static)" % busybox)
    entries = [("bin", 0o40755, b""), ("modules", 0o40755, b""),
               ("init", 0o100755, open(os.path.join(HERE, "guest", "initramfs-init"), "rb").read()),
               ("bin/busybox", 0o100755, data)]
    entries.append(("modules/order", 0o100644, ("\n".join(order) + "\n").encode()))
    for name in order:
        entries.append(("modules/" + name + ".ko", 0o100644, open(os.path.join(modules, name + ".ko"), "rb").read()))
    path = os.path.join(work, "initramfs.cpio.gz")
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(cpio_newc(entries))
    return path


def build_disk(work, asd_binary, size="1536M"):
    """The guest's root disk: the cached root file system, asd, the rig's guest files."""
    root = os.path.join(work, "root")
    os.makedirs(root)
    sh("zstd -dc '%s' | tar -C '%s' --numeric-owner --xattrs --acls -xf -" % (ROOTFS_CACHE, root), shell=True)
    shutil.copy(asd_binary, os.path.join(root, "usr/bin/asd"))
    os.chmod(os.path.join(root, "usr/bin/asd"), 0o755)
    os.makedirs(os.path.join(root, "opt/pl"))
    for name in ("guest.py", "common.py", "workload.py", "check.py", "live.py", "exclusions.py", "watch.py"):
        shutil.copy(os.path.join(HERE, "guest", name), os.path.join(root, "opt/pl", name))
    # The live SQLite writer and its checks (guest/live.py).
    shutil.copy(os.path.join(HERE, "..", "writers", "bank.py"), os.path.join(root, "opt/pl", "bank.py"))
    shutil.copy(os.path.join(HERE, "guest", "pl-init"), os.path.join(root, "sbin/pl-init"))
    os.chmod(os.path.join(root, "sbin/pl-init"), 0o755)
    for d in ("var/lib/pl/control", "srv", "volatile"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    disk = os.path.join(work, "disk.img")
    sh(["mkfs.ext4", "-q", "-F", "-L", "plroot", "-d", root, disk, size], stdout=subprocess.DEVNULL)
    shutil.rmtree(root)
    return disk


def build_srv_disk(work, fs, size=1 << 30):
    """The second disk, /srv in the guest, when ASD_POWERLOSS_FS is btrfs or xfs: an
    image file made by mkfs (no loop device); xfs with reflink=1 (the delta clones)."""
    disk = os.path.join(work, "srv.img")
    with open(disk, "wb") as f:
        f.truncate(size)
    if fs == "btrfs":
        sh(["mkfs.btrfs", "-q", "-f", "-L", "plsrv", disk], stdout=subprocess.DEVNULL)
    else:
        sh(["mkfs.xfs", "-q", "-f", "-L", "plsrv", "-m", "reflink=1", disk], stdout=subprocess.DEVNULL)
    return disk
