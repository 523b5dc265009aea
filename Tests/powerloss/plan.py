"""Where the power is cut: a phase marker the guest announces, then a seeded
random delay within the phase's expected length (learnt from the phases that
completed earlier in the run)."""
import os
import random

# The CI set: every phase the issue lists, twice for the ones that write most.
FIXED = ["resync", "sync", "after-resync", "recovery", "unsync", "resync", "after-resync", "recovery"]
PHASES = ["sync", "resync", "after-resync", "unsync", "recovery"]
# Seconds under TCG, before anything is learnt.
DEFAULTS = {"sync": 1.0, "resync": 1.2, "unsync": 1.5, "recover": 3.0, "after": 0.8}


class Estimates:
    """Typical length of each phase, from the begin/end markers seen so far."""

    def __init__(self):
        self.seen = {}

    def learn(self, markers):
        begins = {}
        for t, text in markers:
            words = text.split()
            if not words or "-" not in words[0]:
                continue
            kind, edge = words[0].rsplit("-", 1)
            key = (kind, tuple(words[1:]))
            if edge == "begin":
                begins[key] = t
            elif edge == "end" and key in begins:
                self.seen.setdefault(kind, []).append(t - begins.pop(key))

    def length(self, kind):
        got = sorted(self.seen.get(kind, []))
        return got[len(got) // 2] if got else DEFAULTS[kind]


class KillPlan:
    def __init__(self, phase, marker, end, kind, rng, recovery=None):
        self.phase, self.marker, self.end, self.kind = phase, marker, end, kind
        self.fraction = rng.uniform(0.03, 0.97)
        self.recovery = recovery

    def delay(self, estimates):
        return self.fraction * estimates.length(self.kind)

    def ends(self, text):
        return text == self.end or (self.end.endswith("*") and text.startswith(self.end[:-1]))


def plan_round(round_no, phase, iterations, rng):
    r = "r%d" % round_no
    i = rng.randint(1, iterations)
    last = iterations + 1
    if phase == "sync":
        return KillPlan(phase, "sync-begin " + r, "sync-end " + r, "sync", rng)
    if phase == "resync":
        return KillPlan(phase, "resync-begin %s %d" % (r, i), "resync-end %s %d" % (r, i), "resync", rng)
    if phase == "after-resync":
        nxt = "unsync" if i == iterations else "resync"
        return KillPlan(phase, "resync-end %s %d" % (r, i), "%s-begin %s %d" % (nxt, r, i + 1), "after", rng)
    if phase == "unsync":
        return KillPlan(phase, "unsync-begin %s %d" % (r, last), "unsync-end %s %d" % (r, last), "unsync", rng)
    if phase == "recovery":
        again = KillPlan("recovery", "recover-begin " + r, "recover-end " + r, "recover", rng)
        return KillPlan("resync", "resync-begin %s %d" % (r, i), "resync-end %s %d" % (r, i), "resync", rng,
                        recovery=again)
    raise ValueError(phase)


def plan_rounds(rounds, rng):
    iterations = int(os.environ.get("ASD_POWERLOSS_ITERATIONS", "3"))
    phases = [FIXED[n] if n < len(FIXED) else rng.choice(PHASES) for n in range(rounds)]
    return [plan_round(n, phase, iterations, random.Random(rng.getrandbits(64)))
            for n, phase in enumerate(phases, start=1)]
