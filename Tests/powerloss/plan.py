"""Where the power is cut: a phase marker the guest announces, then a seeded
random delay within the phase's expected length (learnt from the phases that
completed earlier in the run)."""
import os
import random

# The CI set: every phase the issue lists, twice for the ones that write most.
FIXED = ["resync", "sync", "after-resync", "recovery", "unsync", "resync", "after-resync", "recovery"]
PHASES = ["sync", "resync", "after-resync", "unsync", "recovery"]
# Seconds under TCG, before anything is learnt.
DEFAULTS = {"sync": 0.6, "resync": 0.6, "unsync": 0.8, "recover": 1.5, "after": 0.8}


class Estimates:
    """Typical length of each phase per asd instance (plain, overlay), from the
    begin/end markers seen so far."""

    def __init__(self):
        self.seen = {}
        self.begins = {}

    def learn(self, boot):
        """Takes in the markers of `boot` not seen before (also while it runs)."""
        for t, text in boot.seen[boot.learned:]:
            words = text.split()
            if not words or "-" not in words[0]:
                continue
            kind, edge = words[0].rsplit("-", 1)
            key = (boot.name, kind, tuple(words[1:]))
            if edge == "begin":
                self.begins[key] = t
            elif edge == "end" and key in self.begins:
                self.seen.setdefault((kind, words[-1]), []).append(t - self.begins.pop(key))
        boot.learned = len(boot.seen)

    def length(self, key):
        """The shortest seen: a loaded host stretches phases unevenly, and a cut
        planned on a long sample would often come after the phase ended."""
        got = self.seen.get(key, [])
        return min(got) if got else DEFAULTS[key[0]]


class KillPlan:
    run_step, check_step = "run", "check"

    def __init__(self, phase, marker, end, key, rng, recovery=None):
        self.phase, self.marker, self.end, self.key = phase, marker, end, key
        self.fraction = rng.uniform(0.05, 0.95)
        self.recovery = recovery

    def delay(self, estimates):
        return self.fraction * estimates.length(self.key)

    def ends(self, text):
        return text == self.end


def plan_round(round_no, phase, iterations, rng):
    r = "r%d" % round_no
    i = rng.randint(1, iterations)
    which = rng.choice(["plain", "overlay"])
    last = iterations + 1

    def within(kind, suffix):
        return KillPlan(phase, "%s-begin %s%s %s" % (kind, r, suffix, which),
                        "%s-end %s%s %s" % (kind, r, suffix, which), (kind, which), rng)

    if phase == "sync":
        return within("sync", "")
    if phase == "resync":
        return within("resync", " %d" % i)
    if phase == "after-resync":
        nxt = "unsync" if i == iterations else "resync"
        return KillPlan(phase, "resync-end %s %d overlay" % (r, i), "%s-begin %s %d plain" % (nxt, r, i + 1),
                        ("after", ""), rng)
    if phase == "unsync":
        return within("unsync", " %d" % last)
    if phase == "recovery":
        plan = within("resync", " %d" % i)
        plan.phase = "resync"
        again = KillPlan("recovery", "recover-begin %s %s" % (r, which), "recover-end %s %s" % (r, which),
                         ("recover", which), rng)
        plan.recovery = again
        return plan
    raise ValueError(phase)


def plan_rounds(rounds, rng):
    iterations = int(os.environ.get("ASD_POWERLOSS_ITERATIONS", "3"))
    only = [p for p in os.environ.get("ASD_POWERLOSS_PHASES", "").split(",") if p]
    for p in only:
        if p not in PHASES:
            raise SystemExit("powerloss: unknown phase %r in ASD_POWERLOSS_PHASES (%s)" % (p, ", ".join(PHASES)))
    if only:
        phases = [only[n % len(only)] for n in range(rounds)]
    else:
        phases = [FIXED[n] if n < len(FIXED) else rng.choice(PHASES) for n in range(rounds)]
    return [plan_round(n, phase, iterations, random.Random(rng.getrandbits(64)))
            for n, phase in enumerate(phases, start=1)]
