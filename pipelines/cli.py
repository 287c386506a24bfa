"""`cdi`: the command line onto the same functions the DAG calls.

Exit codes scripts can rely on: 0 passed, 1 gate breached, 2 error (one clear line on stderr;
the traceback only with --debug).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

EXIT_PASSED, EXIT_BREACHED, EXIT_ERROR = 0, 1, 2

EXAMPLES = {
    "simulate": """examples:
  cdi simulate --force KNT --profile kent-2017 --from 2024-06-01 --to 2024-06-28 --seed 7 \\
      --landing var/landing --truth var/truth --scale 0.05
  cdi simulate --force KNT --profile derbyshire-2018 --from 2024-01-01 --to 2024-12-31 --seed 1 \\
      --landing var/period --mode period --preset large""",
    "run": """examples:
  CDI_PSEUDONYM_KEY=... cdi run --force KNT --date 2024-06-28 --landing /data/landing --lake /data/lake
  cdi run --force KNT --date 2024-06-28 --landing var/landing --lake var/lake --demo""",
    "verdict": """examples:
  cdi verdict --force KNT --date 2024-06-28 --lake var/lake""",
}


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date of the form YYYY-MM-DD") from None


def _force(value: str) -> str:
    from pipelines.settings import ConfigurationError, validate_force_code

    try:
        return validate_force_code(value)
    except ConfigurationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdi",
        description="cdi-monitor: find reported crimes that were never recorded.",
        epilog="exit codes: 0 passed, 1 gate breached, 2 error",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=help_text, description=help_text, epilog=EXAMPLES.get(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    simulate = command("simulate", "write a simulated force's source exports (and its ground truth)")
    simulate.add_argument("--force", type=_force, required=True, help="force code, 2-5 capital letters")
    simulate.add_argument("--profile", required=True, help="recording behaviour, e.g. kent-2017, kent-2018, derbyshire-2018, met-2018, outstanding")
    simulate.add_argument("--from", dest="start", type=_date, required=True, help="first snapshot date")
    simulate.add_argument("--to", dest="end", type=_date, required=True, help="last snapshot date")
    simulate.add_argument("--seed", type=int, required=True, help="random seed: the same seed gives the same files")
    simulate.add_argument("--landing", type=Path, required=True, help="landing folder the exports are written to")
    simulate.add_argument("--truth", type=Path, help="folder for the ground truth (never inside --landing)")
    simulate.add_argument("--mode", choices=("daily", "period"), default="daily", help="daily snapshots or one period export")
    simulate.add_argument("--preset", choices=("mid", "large"), default="mid", help="force size (default mid)")
    simulate.add_argument("--scale", type=float, default=1.0, help="multiply volumes, e.g. 0.01 for tiny test data")

    run = command("run", "run the daily pipeline for one snapshot date without Airflow")
    run.add_argument("--force", type=_force, required=True)
    run.add_argument("--date", type=_date, required=True, help="snapshot date")
    run.add_argument("--landing", type=Path, required=True, help="landing folder holding <FORCE>/<source>_<date>.csv")
    run.add_argument("--lake", type=Path, required=True, help="the Parquet lake")
    run.add_argument("--demo", action="store_true", help="simulated data: allow the built-in pseudonymisation key")

    verdict = command("verdict", "print the verdict of a finished run from the lake")
    verdict.add_argument("--force", type=_force, required=True)
    verdict.add_argument("--date", type=_date, required=True, help="snapshot date")
    verdict.add_argument("--lake", type=Path, required=True)
    return parser


def _progress_bar(total: int, description: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="step", file=sys.stderr, disable=not sys.stderr.isatty())


def cmd_simulate(args: argparse.Namespace) -> int:
    from pipelines.simulate import simulate_force

    total = (args.end - args.start).days + 1 if args.mode == "daily" else 1
    with _progress_bar(total, f"simulating {args.force}") as bar:
        summary = simulate_force(
            force=args.force, profile=args.profile, start=args.start, end=args.end, seed=args.seed,
            landing=args.landing, truth=args.truth, mode=args.mode, preset=args.preset, scale=args.scale,
            progress=lambda done, _total: bar.update(done - bar.n),
        )
    counts = ", ".join(f"{records} {source}" for source, records in summary.records.items())
    print(f"wrote {len(summary.export_files)} exports to {args.landing / args.force} ({counts})")
    if summary.true_recording_rate is not None:
        print(f"true recording rate of the simulated force: {summary.true_recording_rate:.1%}")
    if args.truth:
        print(f"ground truth in {args.truth / args.force}")
    return EXIT_PASSED


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.daily_run import run_daily
    from pipelines.settings import load_settings
    from pipelines.verdict import verdict_text

    settings = load_settings(args.force, landing_dir=args.landing, lake_dir=args.lake, demo=args.demo)
    with _progress_bar(9, f"{args.force} {args.date}") as bar:
        outcome = run_daily(settings, args.date, progress=lambda step, done, total: bar.update(done - bar.n))
    print(verdict_text(outcome.verdict, outbox_file=outcome.outbox_file))
    return outcome.exit_code


def cmd_verdict(args: argparse.Namespace) -> int:
    from pipelines import lake
    from pipelines.settings import load_settings
    from pipelines.verdict import load_verdict, verdict_text

    settings = load_settings(args.force, landing_dir=".", lake_dir=args.lake, need_key=False)
    verdict = load_verdict(settings, args.date)
    outbox = lake.outbox_dir(args.lake) / f"{args.force}_{args.date.isoformat()}_registrar.eml"
    print(verdict_text(verdict, outbox_file=outbox if outbox.exists() else None))
    return EXIT_PASSED if verdict.passed else EXIT_BREACHED


COMMANDS = {"simulate": cmd_simulate, "run": cmd_run, "verdict": cmd_verdict}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("cdi: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # one clear line for people; the traceback for --debug
        if args.debug:
            raise
        print(f"cdi: error: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
