"""Lookup latency of the near-duplicate index with a million stored SimHash signatures.

Fills `NearDuplicateIndex` with random 64-bit signatures (the uniform case: SimHashes of
unrelated texts differ in about 32 bits) and times `query` one call at a time: half the
queries are stored signatures with up to k bits flipped (each must be found), half are new
random signatures. Prints p50/p95/p99 per maximum distance k, and the machine.

    .venv/bin/python bench/dedup_lookup.py                 # 1,000,000 signatures, k = 3..6
    .venv/bin/python bench/dedup_lookup.py --size 200000 --distances 4

Target: p95 ≤ 2 ms at the default distance (dedup.DEFAULT_MAX_DISTANCE).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intersection.mediawatch.pipeline.dedup import (  # noqa: E402
    DEFAULT_MAX_DISTANCE,
    NearDuplicateIndex,
)

TARGET_MS = 2.0


def machine() -> list[tuple[str, str]]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores (one used)"),
        ("Memory", memory),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
    ]


def flip(signature: int, bits: int, rng: random.Random) -> int:
    for position in rng.sample(range(64), bits):
        signature ^= 1 << position
    return signature


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(size: int, distance: int, queries: int, seed: int) -> tuple[bool, str]:
    rng = random.Random(seed)
    signatures = [rng.getrandbits(64) for _ in range(size)]
    index: NearDuplicateIndex[int] = NearDuplicateIndex(max_distance=distance)
    started = time.perf_counter()
    for key, signature in enumerate(signatures):
        index.add(key, signature)
    build = time.perf_counter() - started

    near = [
        (key, flip(signatures[key], rng.randint(0, distance), rng))
        for key in rng.sample(range(size), queries // 2)
    ]
    far = [(None, rng.getrandbits(64)) for _ in range(queries - len(near))]
    workload = near + far
    rng.shuffle(workload)
    for _, probe in workload[:200]:  # warm-up
        index.query(probe)
    timings: list[float] = []
    missed = 0
    candidates = 0
    gc.disable()
    try:
        for expected, probe in workload:
            begin = time.perf_counter_ns()
            found = index.query(probe)
            timings.append((time.perf_counter_ns() - begin) / 1e6)
            candidates += len(found)
            if expected is not None and expected not in {key for key, _ in found}:
                missed += 1
    finally:
        gc.enable()
    p50, p95, p99 = (percentile(timings, f) for f in (0.50, 0.95, 0.99))
    ok = p95 <= TARGET_MS and missed == 0
    bucket = size / 2 ** (64 // (distance + 1))
    line = (
        f"k={distance}  bands={distance + 1}  p50 {p50:.3f} ms  p95 {p95:.3f} ms  "
        f"p99 {p99:.3f} ms  max {max(timings):.2f} ms  (≈{bucket:,.0f} signatures per "
        f"bucket; build {build:.1f} s; near copies missed: {missed}; "
        f"results/query {candidates / len(workload):.2f})"
    )
    del index, signatures
    gc.collect()
    return ok, line


def main() -> int:
    parser = argparse.ArgumentParser(description="Lookup latency of the near-duplicate index.")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--distances", type=int, nargs="+", default=[3, 4, 5, 6])
    parser.add_argument("--queries", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=2025)
    options = parser.parse_args()
    print("Near-duplicate index lookup (bench/dedup_lookup.py)")
    for name, value in machine():
        print(f"  {name:<7} {value}")
    print(
        f"  {options.size:,} random signatures, {options.queries:,} queries per k (half near"
        f" copies, half new); target p95 ≤ {TARGET_MS} ms at k={DEFAULT_MAX_DISTANCE}"
    )
    verdict = True
    for distance in options.distances:
        ok, line = run(options.size, distance, options.queries, options.seed)
        print(f"  {line}")
        if distance == DEFAULT_MAX_DISTANCE:
            verdict = ok
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of the process: {peak:,.0f} MiB")
    print("PASS" if verdict else "FAIL", f"(default k={DEFAULT_MAX_DISTANCE})")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
