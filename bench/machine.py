"""What the machine did while a stage ran: I/O wait and stolen CPU (``/proc/stat``), and the time tasks stalled on
I/O and on CPU (``/proc/pressure``), as deltas over the stage.

The cycle's ratios compare two spans measured minutes apart, and this machine's disk does not keep one pace: in the
eleventh L cycle billing's bare replay took 1,423.9 s against 212.3 s in the ninth, on the same fixtures, while the
kernel counted thousands of seconds of I/O wait. With these figures beside each span a distorted ratio says so
itself. Where the kernel has no such file (not Linux, or pressure accounting off) the figure is left out.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def counters() -> dict[str, float]:
    """Seconds since boot: ``iowait`` and ``steal`` summed over the CPUs; ``io_some`` / ``io_full`` (some / all
    runnable tasks stalled on I/O) and ``cpu_some`` (some waiting for a CPU)."""
    found: dict[str, float] = {}
    try:
        fields = (PROC / "stat").read_text().splitlines()[0].split()
        tick = os.sysconf("SC_CLK_TCK")
        # cpu user nice system idle iowait irq softirq steal ...
        found["iowait"] = int(fields[5]) / tick
        found["steal"] = int(fields[8]) / tick if len(fields) > 8 else 0.0
    except (OSError, IndexError, ValueError):
        pass
    for resource, kinds in (("io", ("some", "full")), ("cpu", ("some",))):
        try:
            lines = (PROC / "pressure" / resource).read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            kind, *pairs = line.split()
            if kind in kinds:
                total = dict(pair.split("=", 1) for pair in pairs).get("total")
                if total is not None:
                    found[f"{resource}_{kind}"] = int(total) / 1e6  # microseconds
    return found


def since(before: dict[str, float]) -> dict[str, float]:
    """What the counters grew by since ``before`` (:func:`counters`), in seconds."""
    now = counters()
    return {name: round(now[name] - before[name], 1) for name in now if name in before}
