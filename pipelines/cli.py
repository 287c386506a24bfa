"""`cdi`: the command line onto the same functions the DAG calls.

Exit codes scripts can rely on, for every command: 0 passed, 1 gate breached, 2 error (one clear
line on stderr; the traceback only with --debug). Results go to stdout; progress bars (on a
terminal only), logs (-v, --debug) and errors go to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import traceback
import warnings
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
  cdi run --force KNT --date 2024-06-28 --landing var/landing --lake var/lake --demo
  cdi run ... || echo "exit $?: 1 = gate breached (report and alert written), 2 = error\"""",
    "verdict": """examples:
  cdi verdict --force KNT --date 2024-06-28 --lake var/lake
  cdi verdict --force KNT --date 2024-06-28 --lake var/lake && echo "recording within thresholds\"""",
    "report": """what it counts:
  Every report day from --from to --to once, as the latest run that settled it saw it: a run dated
  S settles the report days of its window (S - lookback_days to S - maturity_lag_days - 1), the
  days its own verdict counted. Later runs restate earlier days, so late records count; no crime
  is counted twice. Days no run settles are listed as not covered. --as-of reads only runs dated
  on or before it (what was known then). The rates are checked against the force's thresholds.

examples:
  cdi report --force KNT --from 2024-01-01 --to 2024-06-30 --lake /data/lake
  cdi report --force KNT --from 2024-04-01 --to 2024-06-25 --lake var/lake --out inspection/report.html
  cdi report --force KNT --from 2024-01-01 --to 2024-03-31 --lake var/lake --as-of 2024-04-15""",
    "audit": """examples:
  cdi audit sample --force KNT --date 2024-06-28 --lake var/lake --seed 3
  cdi audit sample --force KNT --date 2024-06-28 --lake var/lake --violence-half-width 0.03
  cdi audit ingest --force KNT --date 2024-06-28 --lake var/lake --verdicts audit_sample_filled.csv""",
    "backfill": """what it writes:
  For every snapshot date from --from to --to, what the daily run's reconcile stage writes (the
  marts and the reconcile manifest, in the same partitions), in one process and one DuckDB
  connection. No gates, reports or alerts per date: `cdi report --from --to` reports the period.

where from:
  archived daily snapshots (default): the raw partitions in --lake, as daily runs left them;
    dates missing from the lake are extracted first from --landing's daily exports. The marts
    are exactly those day-by-day runs give.
  --period-export DIR: one export per source, DIR/<FORCE>/<source>_<date>.csv, covering the
    period and the first date's lookback window, taken on --export-date (default --to). Each
    date's snapshot is worked out from the records' own times; records deleted, or calls
    re-closed, during the period show in their final state.

examples:
  cdi backfill --force KNT --from 2024-01-01 --to 2024-06-30 --lake /data/lake
  CDI_PSEUDONYM_KEY=... cdi backfill --force KNT --from 2024-01-01 --to 2024-12-31 --lake /data/lake \\
      --period-export /data/handover --export-date 2025-01-01
  cdi backfill --force KNT --from 2024-06-01 --to 2024-06-28 --landing var/landing --lake var/lake --demo""",
}


class CommandParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (and exit 2), like every other cdi error."""

    def error(self, message: str):
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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


def _positive_scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not scale > 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be above 0")
    return scale


def _output_options() -> argparse.ArgumentParser:
    """--debug and --verbose, accepted before or after the command name."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help="show tracebacks and debug logs")
    options.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="show the pipeline's logs on stderr")
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="cdi",
        description="cdi-monitor: find reported crimes that were never recorded.",
        epilog="exit codes: 0 passed, 1 gate breached, 2 error. 'cdi COMMAND --help' shows examples.",
        parents=[_output_options()],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=CommandParser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=help_text, description=help_text, epilog=EXAMPLES.get(name),
            formatter_class=argparse.RawDescriptionHelpFormatter, parents=[_output_options()],
        )

    # The same option means the same thing in every command.
    def force_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--force", type=_force, required=True, help="force code, 2-5 capital letters, e.g. KNT")

    def date_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--date", type=_date, required=True, help="snapshot date, YYYY-MM-DD")

    def lake_option(sub: argparse.ArgumentParser) -> None:
        # Kept as text: pathlib would fold an URL's "//"; the settings make it a location.
        sub.add_argument("--lake", required=True,
                         help="the Parquet lake folder, or an fsspec URL such as s3://bucket/prefix")

    def period_options(sub: argparse.ArgumentParser, what: str) -> None:
        sub.add_argument("--from", dest="start", type=_date, required=True, help=f"first {what}")
        sub.add_argument("--to", dest="end", type=_date, required=True, help=f"last {what}")

    def landing_option(sub: argparse.ArgumentParser, help_text: str) -> None:
        sub.add_argument("--landing", type=Path, required=True, help=help_text)

    simulate = command("simulate", "write a simulated force's source exports (and its ground truth)")
    force_option(simulate)
    simulate.add_argument("--profile", required=True, help="recording behaviour, e.g. kent-2017, kent-2018, derbyshire-2018, met-2018, outstanding")
    period_options(simulate, "snapshot date")
    simulate.add_argument("--seed", type=int, required=True, help="random seed: the same seed gives the same files")
    landing_option(simulate, "landing folder the exports are written to")
    simulate.add_argument("--truth", type=Path, help="folder for the ground truth (never inside --landing)")
    simulate.add_argument("--mode", choices=("daily", "period"), default="daily", help="daily snapshots or one period export")
    simulate.add_argument("--preset", choices=("mid", "large"), default="mid", help="force size (default mid)")
    simulate.add_argument("--scale", type=_positive_scale, default=1.0, help="multiply volumes, e.g. 0.01 for tiny test data")

    run = command("run", "run the daily pipeline for one snapshot date without Airflow")
    force_option(run)
    date_option(run)
    landing_option(run, "landing folder holding <FORCE>/<source>_<date>.csv")
    lake_option(run)
    run.add_argument("--demo", action="store_true", help="simulated data: allow the built-in pseudonymisation key")

    verdict = command("verdict", "print the verdict of a finished run from the lake")
    force_option(verdict)
    date_option(verdict)
    lake_option(verdict)

    report = command("report", "write the registrar's report for any period of report days, from the runs in the lake")
    force_option(report)
    period_options(report, "report day of the period")
    lake_option(report)
    report.add_argument("--out",  # text, so an s3:// URL survives (lake.location reads it)
                        help="the report file, a path or an fsspec URL; its CSV and Parquet go beside it "
                             "(default <lake>/reports/force=<F>/period=<from>_<to>/report.html)")
    report.add_argument("--as-of", dest="as_of", type=_date, help="read only runs dated on or before this date")

    backfill = command("backfill", "reconcile every snapshot date of a period in one command, writing the daily partitions")
    force_option(backfill)
    period_options(backfill, "snapshot date")
    lake_option(backfill)
    backfill.add_argument("--landing", type=Path,
                          help="landing folder of daily exports, for dates missing from the lake")
    backfill.add_argument("--period-export", dest="period_export", type=Path,
                          help="folder holding a period export (<FORCE>/<source>_<date>.csv) to backfill from")
    backfill.add_argument("--export-date", dest="export_date", type=_date,
                          help="the date the period export was taken on (its file names; default --to)")
    backfill.add_argument("--jobs", type=int, help="worker processes (default: one per CPU); the marts do not depend on it")
    backfill.add_argument("--demo", action="store_true", help="simulated data: allow the built-in pseudonymisation key")

    audit = command("audit", "draw a random audit sample of a run's candidates, or take the auditors' verdicts back")
    audit.add_argument("action", choices=("sample", "ingest"), help="sample: draw and write audit_sample.csv; "
                       "ingest: read the filled-in sample and report audited rates")
    force_option(audit)
    date_option(audit)
    lake_option(audit)
    audit.add_argument("--seed", type=int, default=1, help="sample: the same seed draws the same sample (default 1)")
    audit.add_argument("--overall-half-width", type=float, default=0.02, help="sample: 95%% interval half-width overall (default 0.02)")
    audit.add_argument("--violence-half-width", type=float, default=0.033, help="sample: the same for violence (default 0.033)")
    audit.add_argument("--verdicts", type=Path, help="ingest: the sample CSV with the verdict columns filled in")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cdi-monitor")
    except PackageNotFoundError:
        return "unknown"


def _progress_bar(total: int, description: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="step", file=sys.stderr, disable=not sys.stderr.isatty(),
                leave=False)


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
    if not verdict.gate_evaluated:
        raise RuntimeError(f"the gate was not evaluated for {args.force} {args.date} (no gate.json): the run stopped before it")
    return EXIT_PASSED if verdict.passed else EXIT_BREACHED


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.report import publish_period_report
    from pipelines.settings import load_settings
    from pipelines.verdict import percent, rate_with_interval

    if args.end < args.start:
        raise ValueError(f"--to {args.end} is before --from {args.start}")
    settings = load_settings(args.force, landing_dir=".", lake_dir=args.lake, need_key=False)
    with _progress_bar(4, f"report {args.force} {args.start} to {args.end}") as bar:
        result = publish_period_report(
            settings, args.start, args.end, out=args.out, as_of=args.as_of,
            progress=lambda done, _total: bar.update(done - bar.n),
        )
    overall = next((line for line in result["rates"] if line.dimension == "overall"), None)
    print(f"cdi-monitor period report for {args.force}, report days {args.start} to {args.end}: {result['status']}")
    if overall is not None:
        print(f"  Recording rate overall: {rate_with_interval(overall)}, {overall.recorded} of {overall.candidate_crimes} crimes"
              + (f"; within 24 hours {percent(overall.share_within_24h)}" if overall.share_within_24h is not None else ""))
    print(f"  Report days covered: {result['days_covered']} of {result['days_in_period']}, from {result['runs_read']} run(s)")
    for warning in result["warnings"]:
        print(f"  WARNING {warning}")
    for breach in result["breaches"]:
        print(f"  BREACH  {breach}")
    print(f"  Worklist items: {result['worklist_items']}")
    print(f"  Report: {result['report']}")
    return EXIT_BREACHED if result["status"] == "BREACHED" else EXIT_PASSED


def cmd_backfill(args: argparse.Namespace) -> int:
    from pipelines.backfill import SnapshotsNotInLake, backfill, snapshot_dates
    from pipelines.settings import load_settings

    if args.export_date is not None and args.period_export is None:
        raise ValueError("--export-date goes with --period-export")
    extracting = args.landing is not None or args.period_export is not None
    settings = load_settings(args.force, landing_dir=args.landing or ".", lake_dir=args.lake, demo=args.demo,
                             need_key=extracting)
    with _progress_bar(len(snapshot_dates(args.start, args.end)), f"backfill {args.force}") as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total  # extraction steps are known only once the lake has been looked at
            bar.update(done - bar.n)

        try:
            result = backfill(settings, args.start, args.end, period_landing=args.period_export,
                              export_date=args.export_date, jobs=args.jobs, progress=advance)
        except SnapshotsNotInLake as error:
            if extracting:
                raise
            # Without --landing, the landing folder the message would name is a stand-in.
            raise FileNotFoundError(f"{error.dates_in_words()}, and no --landing (or --period-export) was given to "
                                    f"extract them from: {error.dates_listed()}") from None
    print(f"cdi-monitor backfill for {args.force}: {result.dates} snapshot dates, {args.start} to {args.end}, "
          f"from {result.input}, in {result.seconds:.1f} s ({result.jobs} worker(s))")
    if result.extracted_dates:
        print(f"  Extracted first from daily exports: {len(result.extracted_dates)} date(s)")
    for source, extracted in result.period_extracts.items():
        print(f"  Period export {source}: {extracted['rows_accepted']} rows accepted, "
              f"{extracted['rows_quarantined']} quarantined ({extracted['quarantine_partition']})")
    print("  Rows written: " + ", ".join(f"{mart} {rows}" for mart, rows in result.mart_rows.items()))
    # The report days these snapshots settle (each snapshot's matured window; see `cdi report --help`).
    first_day = args.start - dt.timedelta(days=settings.lookback_days)
    last_day = args.end - dt.timedelta(days=settings.maturity_lag_days + 1)
    print(f"  Next: cdi report --force {args.force} --from {first_day} --to {last_day} --lake {args.lake}")
    return EXIT_PASSED


def cmd_audit(args: argparse.Namespace) -> int:
    from pipelines import audit
    from pipelines.settings import load_settings
    from pipelines.verdict import percent

    settings = load_settings(args.force, landing_dir=".", lake_dir=args.lake, need_key=False)
    if args.action == "sample":
        plan = audit.draw_sample(settings, args.date, seed=args.seed, overall_half_width=args.overall_half_width,
                                 violence_half_width=args.violence_half_width)
        for stratum in plan.strata:
            print(f"  {stratum.stratum:<14} {stratum.sample_size} of {stratum.frame_candidates} candidates")
        print(f"  Audit sample: {plan.sample_file}")
        return EXIT_PASSED
    if args.verdicts is None:
        raise ValueError("cdi audit ingest needs --verdicts FILE")
    for row in audit.ingest_verdicts(settings, args.date, args.verdicts):
        screened = "" if row["screened_rate"] is None else f"; screened {percent(row['screened_rate'])}"
        print(f"  {row['dimension_value']:<14} audited {percent(row['audited_rate'])} (95% CI "
              f"{percent(row['audited_ci_lower'])} to {percent(row['audited_ci_upper'])}), "
              f"{row['crimes_recorded']} of {row['crimes_due']} crimes{screened}")
    return EXIT_PASSED


COMMANDS = {"simulate": cmd_simulate, "run": cmd_run, "verdict": cmd_verdict, "report": cmd_report,
            "backfill": cmd_backfill, "audit": cmd_audit}


def _configure_output(debug: bool, verbose: bool) -> None:
    """Logs only on request: stdout carries the result, stderr the progress and one-line errors."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.CRITICAL
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr,
                        force=True)
    if debug:  # --debug is for our code: the object-store clients' request headers carry tokens
        from pipelines.lake import keep_object_store_logs_above_debug

        keep_object_store_logs_above_debug()
    else:
        warnings.simplefilter("ignore")


INTERNAL_ERRORS = (KeyError, AttributeError, TypeError, IndexError, NameError, AssertionError)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, INTERNAL_ERRORS):  # a bug, not bad input: say so, and how to see more
        return f"internal error {type(error).__name__}: {text} (rerun with --debug for the traceback)"
    if isinstance(error, (FileNotFoundError, PermissionError, IsADirectoryError)) and error.filename and str(error.filename) not in text:
        text = f"{text}: {error.filename}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug, verbose = getattr(args, "debug", False), getattr(args, "verbose", False)
    _configure_output(debug, verbose)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("cdi: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. `cdi verdict ... | head -1`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's advice: no second error at exit
        return EXIT_ERROR
    except Exception as error:  # one clear line for people; the traceback too with --debug
        if debug:
            traceback.print_exc()
        print(f"cdi {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
