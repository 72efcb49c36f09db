"""Run every benchmark script in this folder, one after another, and keep their tables.

Usage: python -m benchmarks.run_all [name ...]   (names without .py; default: all)
Each script prints its own table; the combined output goes to benchmarks/out/RESULTS.txt.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"__init__", "run_all", "common"}


def machine() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
    cpus = len(os.sched_getaffinity(0))
    python = platform.python_version()
    return f"{platform.machine()} {cpus} cpus, Python {python}, commit {commit.stdout.strip()}"


def main(argv: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.stem not in SKIP)
    if argv:
        scripts = [p for p in scripts if p.stem in argv]
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    failed = 0
    with open(out_dir / "RESULTS.txt", "w", encoding="utf-8") as results:
        results.write(f"# closedloop benchmarks\n{machine()}\n")
        for script in scripts:
            started = time.perf_counter()
            print(f"== {script.stem}", flush=True)
            proc = subprocess.run(
                [sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parent
            )
            elapsed = time.perf_counter() - started
            print(proc.stdout, end="")
            if proc.returncode != 0:
                failed += 1
                print(proc.stderr[-2000:], file=sys.stderr)
            results.write(f"\n## {script.stem} (exit {proc.returncode}, {elapsed:.1f} s)\n{proc.stdout}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
