"""Benchmarks: `make bench` (python -m bench [NAME ...]).

Each ``bench/bench_<name>.py`` defines ``run(workdir: Path) -> list[Measurement]``. A measurement
is always reported against a baseline measured in the same run on the same machine (a bare scan,
a plain implementation), as a ratio, because absolute seconds on a shared 2-core machine say
little. Results go to ``bench/results/<name>.json`` and a table on stdout.
"""
