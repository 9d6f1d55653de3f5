"""wrk (the C load generator, Debian package `wrk`) as the client of the ingest benchmark.

The Python generator (loadgen.py) runs 32 threads under one GIL on the same two cores as the
server: at concurrency 32 its own scheduling shows up in the latencies it records. wrk spends a
few microseconds per request in C, so its figures are the server's. A Lua script cycles through
the prepared bodies and, when done, prints the counts and 1,000 quantiles of the latency, from
which slices of a run are merged (to within a tenth of a percentile).
"""

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCRIPT = r"""
local bodies, n, idx = {}, 0, 0
init = function(args)
  local dir, count = args[1], tonumber(args[2])
  for i = 0, count - 1 do
    local f = assert(io.open(dir .. "/" .. i, "rb"))
    bodies[i + 1] = f:read("*a")
    f:close()
  end
  n = count
end
request = function()
  idx = idx % n + 1
  return wrk.format("POST", nil, nil, bodies[idx])
end
done = function(summary, latency, requests)
  io.write(string.format("requests %d\n", summary.requests))
  io.write(string.format("duration %d\n", summary.duration))
  io.write(string.format("non2xx %d\n", summary.errors.status))
  io.write(string.format("errors %d\n", summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
  -- The latency distribution as 1,000 quantiles (microseconds): slices of a run merge from these.
  for q = 1, 1000 do
    io.write(string.format("q %d\n", latency:percentile(q / 10 - 0.05)))
  end
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


@dataclass
class WrkResult:
    requests: int
    non_2xx: int
    errors: int
    wall: float
    quantiles: list[int]  # microseconds, at 0.05%, 0.15%, ... 99.95% of this run's requests

    @property
    def accepted(self) -> int:
        return self.requests - self.non_2xx


class Wrk:
    def __init__(self, bodies: list[bytes], headers: dict[str, str]):
        self.dir = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
        for i, body in enumerate(bodies):
            (self.dir / str(i)).write_bytes(body)
        self.count = len(bodies)
        self.script = self.dir / "post.lua"
        self.script.write_text(SCRIPT)
        self.headers = headers

    def run(self, url: str, concurrency: int, duration: float) -> WrkResult:
        command = ["wrk", "-t2", f"-c{concurrency}", f"-d{max(1, round(duration))}s"]
        command += ["--timeout", "30s", "-s", str(self.script)]
        for name, value in self.headers.items():
            command += ["-H", f"{name}: {value}"]
        command += [url, "--", str(self.dir), str(self.count)]
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
        figures, quantiles = {}, []
        for line in out.stdout.splitlines():
            parts = line.split()
            if parts[:1] == ["q"]:
                quantiles.append(int(parts[1]))
            elif len(parts) == 2 and parts[0] in ("requests", "non2xx", "errors", "duration"):
                figures[parts[0]] = int(parts[1])
        return WrkResult(
            figures["requests"],
            figures["non2xx"],
            figures["errors"],
            figures["duration"] / 1e6,
            quantiles,
        )

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def percentile(runs: list[WrkResult], p: float) -> float:
    """The p-th percentile in milliseconds over several runs, each quantile weighted by its run's
    share of the requests."""
    points = sorted(
        (value, run.requests / len(run.quantiles)) for run in runs for value in run.quantiles
    )
    total = sum(weight for _, weight in points)
    if not total:
        return float("nan")
    seen = 0.0
    for value, weight in points:
        seen += weight
        if seen >= p / 100 * total:
            return value / 1000
    return points[-1][0] / 1000
