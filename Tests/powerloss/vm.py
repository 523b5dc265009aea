"""One boot of the guest under QEMU: the disk opened with cache=writeback (what
the guest kernel had not written yet is lost with QEMU; what it flushed
survives), the console on the first serial port (a log file), phase markers on the
second (another file, polled). `power_cut` is SIGKILL of QEMU."""
import os
import signal
import subprocess
import time

QEMU = "qemu-system-x86_64"


def qemu_command(accel, kernel, initrd, disk, append, console, marks, memory=1536):
    cmd = [QEMU, "-nodefaults", "-no-user-config", "-machine", "pc", "-accel", accel,
           "-m", str(memory), "-smp", "1", "-kernel", kernel, "-initrd", initrd, "-append", append,
           "-display", "none", "-no-reboot", "-serial", "file:" + console, "-serial", "file:" + marks]
    for path in ([disk] if isinstance(disk, str) else disk or []):
        cmd += ["-drive", "file=%s,format=raw,if=virtio,cache=writeback" % path]
    if accel == "kvm":
        cmd += ["-cpu", "host"]
    return cmd


class Boot:
    def __init__(self, name, accel, kernel, initrd, disk, steps, extra, workdir):
        self.name = name
        self.console = os.path.join(workdir, name + ".console.log")
        self.marks_path = os.path.join(workdir, name + ".marks.log")
        append = "console=ttyS0 quiet loglevel=4 panic=-1 no_timer_check pl.steps=%s %s" % (steps, extra)
        self.cmd = qemu_command(accel, kernel, initrd, disk, append.strip(), self.console, self.marks_path)
        for p in (self.console, self.marks_path):
            open(p, "w").close()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(workdir, name + ".qemu.log"), "w"))
        self.seen = []          # (host seconds since start, marker text)
        self.learned = 0        # how many of them the phase estimates took in
        self._offset = 0
        self._partial = b""

    def poll(self):
        """New markers since the last call."""
        with open(self.marks_path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        self._offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        now = time.monotonic() - self.started
        new = []
        for raw in lines:
            text = raw.decode(errors="replace").strip("\r ")
            if text.startswith("PL "):
                new.append((now, text[3:]))
        self.seen += new
        return new

    def now(self):
        """Seconds since the boot started, the clock of `seen`."""
        return time.monotonic() - self.started

    def alive(self):
        return self.proc.poll() is None

    def wait_for(self, predicate, timeout):
        """Polls markers until predicate(text) holds (returns (t, text)), QEMU
        exits or `timeout` passes (returns None)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, text in self.poll():
                if predicate(text):
                    return t, text
            if not self.alive():
                for t, text in self.poll():
                    if predicate(text):
                        return t, text
                return None
            time.sleep(0.005)
        return None

    def sleep_watching(self, seconds):
        """Sleeps, still collecting markers (the phase may end before the cut)."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.005))
            self.poll()

    def power_cut(self):
        """SIGKILL of QEMU; returns the instant (seconds since start)."""
        at = time.monotonic() - self.started
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.poll()
        return at

    def finish(self, timeout):
        """Waits for the guest to power off by itself; kills it after `timeout`."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.power_cut()
            return False
        self.poll()
        return True

    def console_tail(self, lines=40):
        with open(self.console, "rb") as f:
            text = f.read().decode(errors="replace").replace("\r", "")
        return "\n".join(text.splitlines()[-lines:])


def kvm_works(kernel, initrd, workdir, timeout=8):
    """A few seconds' probe: /dev/kvm exists on these machines, but guests hang."""
    if not os.path.exists("/dev/kvm"):
        return False
    console = os.path.join(workdir, "kvm-probe.console.log")
    marks = os.path.join(workdir, "kvm-probe.marks.log")
    cmd = qemu_command("kvm", kernel, initrd, None, "console=ttyS0 quiet panic=-1 pl.probe", console, marks, 256)
    try:
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return "PL-PROBE-OK" in open(console, errors="replace").read()
