"""python -m bench [NAME ...]: run the benchmarks in bench/bench_*.py (all, or those named)."""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path

from bench.harness import format_table, write_results

BENCH_DIR = Path(__file__).parent
RESULTS_DIR = BENCH_DIR / "results"


def main(names: list[str]) -> int:
    available = sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))
    chosen = names or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    failed = False
    for name in chosen:
        module = importlib.import_module(f"bench.bench_{name}")
        with tempfile.TemporaryDirectory(prefix=f"cdi-bench-{name}-") as workdir:
            measurements = module.run(Path(workdir))
        path = write_results(name, measurements, RESULTS_DIR)
        print(format_table(name, measurements))
        print(f"  results: {path}")
        failed |= any(m.passed is False for m in measurements)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
