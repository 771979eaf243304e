"""Matching benchmark: exact engine vs greedy baseline vs dense scipy assignment.

Usage: python benchmarks/matching.py [--sizes 100,1000,5000,10000]
Each (size, method) runs in its own subprocess, so peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from scipy.optimize import linear_sum_assignment

from bot.matching.engine import (
    DEFAULT_REFERENCE,
    forbidden_arrays,
    greedy_match,
    match,
    prepare,
)
from bot.matching.model import Person, Rules
from bot.matching.solver import big_constant

TOPICS = [f"topic-{i:02d}" for i in range(24)]
ZONES = ["Europe/Berlin", "Europe/London", "Europe/Lisbon", "America/New_York", "Asia/Kolkata"]
CITIES = ["Berlin", "Munich", "Hamburg", "London", "Lisbon", "New York", "Pune"]
DENSE_LIMIT = 5000  # the expanded float64 matrix above this needs more than ~1 GB


def synthetic_org(size: int, seed: int = 7) -> tuple[list[Person], dict[str, str]]:
    """``size`` juniors and as many seniors in a manager tree with departments."""
    rng = random.Random(seed)
    departments = [f"dept-{i:03d}" for i in range(max(4, size // 50))]
    org: dict[str, str] = {}
    people: list[Person] = []
    for i in range(size):  # seniors: a tree, each reports to an earlier senior
        sid = f"s{i:06d}"
        boss = f"s{rng.randrange(i):06d}" if i else "ceo"
        org[sid] = boss
        people.append(_person(rng, sid, "mentee", departments, boss, rng.choice([1, 1, 2, 3])))
    for i in range(size):  # juniors report to a senior
        jid = f"j{i:06d}"
        boss = f"s{rng.randrange(size):06d}"
        org[jid] = boss
        people.append(_person(rng, jid, "mentor", departments, boss, 1))
    return people, org


def _person(
    rng: random.Random, pid: str, role: str, departments: list[str], boss: str, cap: int
) -> Person:
    languages = rng.choice([{"de"}, {"en"}, {"de", "en"}, {"de", "en"}])
    return Person(
        id=pid, name=pid, role=role,  # type: ignore[arg-type]
        department=rng.choice(departments), manager_id=boss,
        topics=frozenset(rng.sample(TOPICS, rng.randint(1, 5))),
        languages=frozenset(languages),
        meeting_mode=rng.choice(["remote", "in_person", "either"]),
        timezone=rng.choice(ZONES), location=rng.choice(CITIES), capacity=cap,
        language=rng.choice(["de", "en"]),
    )


def dense_assignment(people: list[Person], org: dict[str, str]) -> tuple[int, float]:
    """scipy linear_sum_assignment over the capacity-expanded dense matrix."""
    prepared = prepare(people, Rules(), org, reference=DEFAULT_REFERENCE)
    points = prepared.scorer.matrix(forbidden_arrays(prepared))
    slots = np.repeat(np.arange(points.shape[1]), prepared.residual_s)
    expanded = points[:, slots].astype(np.float64)
    big = big_constant(prepared.residual_j, prepared.residual_s)
    weight = np.where(expanded >= 0, big + expanded, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    chosen = expanded[rows, cols]
    chosen = chosen[chosen >= 0]
    return int(chosen.size), float(chosen.sum()) / 100


def run_child(size: int, method: str) -> dict[str, object]:
    people, org = synthetic_org(size)
    start = time.perf_counter()
    if method == "dense":
        matched, total = dense_assignment(people, org)
    else:
        result = (match if method == "exact" else greedy_match)(people, Rules(), org)
        matched, total = len(result.tandems), result.total_score
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"size": size, "method": method, "seconds": seconds, "peak_mb": peak_mb,
            "total": total, "matched": matched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000,10000")
    parser.add_argument("--child", nargs=2, metavar=("SIZE", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(int(args.child[0]), args.child[1])))
        return
    print(f"{'size':>6} {'method':>7} {'time s':>8} {'peak MB':>8} {'total score':>12} "
          f"{'matched':>8}")
    for size in (int(x) for x in args.sizes.split(",")):
        for method in ("exact", "greedy", "dense"):
            if method == "dense" and size > DENSE_LIMIT:
                print(f"{size:>6} {method:>7}   skipped: the expanded dense float64 matrix "
                      f"({size} x ~{7 * size // 4} slots) needs over 1 GB and minutes")
                continue
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(size), method],
                capture_output=True, text=True, check=True,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{size:>6} {method:>7} {row['seconds']:>8.2f} {row['peak_mb']:>8.0f} "
                  f"{row['total']:>12.2f} {row['matched']:>8}", flush=True)


if __name__ == "__main__":
    main()
