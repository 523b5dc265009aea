#!/usr/bin/env python3
"""The QEMU half of Tests/systemd/zram-boot-test.sh: boots the prepared root file
system ROOT with systemd as init under Debian's kernel (the power-loss rig's kernel,
initramfs and QEMU set-up, Tests/powerloss), the zram modules installed in its
/lib/modules so that zramswap's `modprobe zram` and the kernel's request_module for
an algorithm work as on a Debian machine. The host's zram devices are never touched:
the guest has its own kernel. Waits until the guest powers itself off (or kills it
after TIMEOUT seconds, exit 3). Console in WORK/zram.console.log, the checks' lines
in WORK/zram.marks.log.

    zram-vm.py WORK ROOT TIMEOUT"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "powerloss"))
import image  # noqa: E402
import vm  # noqa: E402


def main(work, root, timeout):
    kernel, modules, order = image.ensure_kernel(work, "zram")
    base, extra = order[:len(image.MODULES)], order[len(image.MODULES):]
    version = os.path.basename(os.path.dirname(modules))[len("kernel-linux-image-"):]
    dest = os.path.join(root, "lib/modules", version, "kernel/extra")
    os.makedirs(dest, exist_ok=True)
    for name in extra:
        shutil.copy(os.path.join(modules, name + ".ko"), dest)
    # Only these modules are installed: the lists of the kernel's other modules stay empty
    # (what is built in needs no modprobe).
    for name in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        open(os.path.join(root, "lib/modules", version, name), "a").close()
    image.sh(["depmod", "-b", root, version])
    initrd = image.build_initramfs(work, modules, base)
    disk = os.path.join(work, "zram-disk.img")
    image.sh(["mkfs.ext4", "-q", "-F", "-L", "ztroot", "-d", root, disk, "1536M"], stdout=subprocess.DEVNULL)
    accel = os.environ.get("ASD_POWERLOSS_ACCEL") or ("kvm" if vm.kvm_works(kernel, initrd, work) else "tcg")
    image.log("zram boot test: booting systemd under %s" % accel)
    append = ("console=ttyS0 loglevel=4 panic=-1 no_timer_check systemd.show_status=false "
              "systemd.mask=serial-getty@ttyS0.service pl.init=/sbin/init")
    console, marks = os.path.join(work, "zram.console.log"), os.path.join(work, "zram.marks.log")
    cmd = vm.qemu_command(accel, kernel, initrd, disk, append, console, marks, memory=1024)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "zram.qemu.log"), "w"))
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
