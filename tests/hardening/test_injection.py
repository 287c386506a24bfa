"""Force codes, dates and paths from configuration or a run's parameters are validated before they
name a file or reach a query, and no SQL is assembled from text that is not the project's own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipelines.settings import ConfigurationError, load_settings, parse_snapshot_date
from tests.hardening.conftest import FORCE, PROJECT, TODAY, cdi

pytestmark = pytest.mark.unit

HOSTILE_FORCES = ["KNT/../../etc", "../KNT", "KNT\n", "KNT'; drop table raw_incidents; --", "knt", "", "KNT*", "ＫＮＴ"]
HOSTILE_DATES = ["2024-06-28; rm -rf /", "2024-06-28/../../x", "28/06/2024", "2024-02-30", "today", ""]


@pytest.mark.parametrize("force", HOSTILE_FORCES)
def test_the_cli_refuses_a_hostile_force_code_before_touching_anything(tmp_path, force):
    run = cdi("run", "--force", force, "--date", TODAY.isoformat(), "--landing", str(tmp_path), "--lake", str(tmp_path / "lake"), "--demo")
    assert run.returncode == 2 and "is not 2-5 capital letters" in run.stderr
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize("date", HOSTILE_DATES)
def test_the_cli_refuses_a_hostile_date(tmp_path, date):
    run = cdi("run", "--force", FORCE, "--date", date, "--landing", str(tmp_path), "--lake", str(tmp_path / "lake"), "--demo")
    assert run.returncode == 2 and "is not a date of the form YYYY-MM-DD" in run.stderr
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize("force", HOSTILE_FORCES)
def test_settings_refuse_a_hostile_force_code(tmp_path, force):
    with pytest.raises(ConfigurationError, match="is not 2-5 capital letters"):
        load_settings(force, landing_dir=tmp_path, lake_dir=tmp_path, demo=True)


@pytest.mark.parametrize("date", HOSTILE_DATES)
def test_a_hostile_snapshot_date_is_refused(date):
    with pytest.raises(ConfigurationError, match="is not a date of the form YYYY-MM-DD"):
        parse_snapshot_date(date)


@pytest.mark.parametrize("params", [{"force": "../ESX"}, {"force": "KNT\nX"}, {"snapshot_date": "2024-06-28' or 1=1"}])
def test_airflow_params_are_validated(tmp_path, monkeypatch, params):
    from pipelines.airflow_support import settings_from_params, snapshot_date_of

    monkeypatch.setenv("CDI_PSEUDONYM_KEY", "a-real-secret-of-sufficient-length")
    with pytest.raises(ConfigurationError):
        settings_from_params({"landing_dir": str(tmp_path), "lake_dir": str(tmp_path / "lake"), **params})
        snapshot_date_of(None, params)
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize(
    "directories, message",
    [
        ({"landing_dir": ""}, "the landing folder must be a folder path without control characters"),
        ({"lake_dir": "lake\n/etc"}, "the lake folder must be a folder path without control characters"),
        ({"lake_dir": "lake\x00"}, "the lake folder must be a folder path without control characters"),
    ],
)
def test_folders_from_parameters_are_plain_paths(tmp_path, directories, message):
    folders = {"landing_dir": tmp_path / "landing", "lake_dir": tmp_path / "lake", **directories}
    with pytest.raises(ConfigurationError, match=message):
        load_settings(FORCE, demo=True, **folders)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"time_zone": "../../../../etc/passwd"}, "'time_zone' must be an IANA time zone"),
        ({"time_zone": "Mars/Olympus_Mons"}, "'time_zone' must be an IANA time zone"),
        ({"lookback_days": "60; drop table raw_crimes"}, "'lookback_days' must be a whole number"),
        ({"recording_window_hours": -1}, "'recording_window_hours' must be a whole number"),
        ({"clock_change": {"ambiguous": "whatever", "nonexistent": "quarantine"}}, "clock_change.ambiguous"),
    ],
)
def test_run_overrides_are_validated(tmp_path, overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings(FORCE, landing_dir=tmp_path, lake_dir=tmp_path / "lake", demo=True, overrides=overrides)


# --------------------------------------------------------------------------- SQL assembled in Python
QUERY_METHODS = {"execute", "executemany", "sql", "query", "from_query", "create_view"}
# Each place a query or a name in one is built with Python string formatting, and why it is safe.
# A new one fails the test below until someone has looked at it and added it here.
REVIEWED_ASSEMBLY = {
    ("pipelines/reconcile.py", "run_sql_file", "execute"):
        "the table is named after one of our own SQL files, and the text is that file",
    ("pipelines/reconcile.py", "register_inputs", "create_view"):
        "view names from the contract's source names and the reference list names",
    ("pipelines/reconcile.py", "register_inputs", "execute"):
        "an empty view named after a contract source name, or a constant query of reconcile.py",
    ("pipelines/reconcile.py", "register_reference_lists", "create_view"):
        "ref_<list> view names from the constant REFERENCE_LISTS",
    ("pipelines/simulate/accuracy.py", "snapshot_connection", "create_view"):
        "raw_<source> view names from the module's constant RAW_SOURCES_READ (tests and benchmarks)",
    ("pipelines/reconcile.py", "register_previous_daily_rates", "execute"):
        "a constant query of reconcile.py (NO_PREVIOUS_DAILY_RATES)",
    ("pipelines/backfill.py", "snapshot_as_of", "execute"):
        "a table named by _snapshot_table (a contract source name and a date's digits); the text is "
        "our own sql/period file, its values bound; the view source_versions over <source>_versions, "
        "a contract source name",
    ("pipelines/backfill.py", "load_period_export", "execute"):
        "drop tables period_<source> (contract source names) and tables named after our own "
        "sql/period files",
    ("pipelines/backfill.py", "_point_views", "execute"):
        "views raw_<source> / prev_raw_<source> over tables named by _snapshot_table",
    ("pipelines/backfill.py", "_reconcile_run", "execute"):
        "set threads to an int; drop tables named by _snapshot_table; a view over the constant "
        "WARM_PREVIOUS_RATES",
    ("pipelines/backfill.py", "_warm_up", "execute"):
        "a table named by the constant WARM_PREVIOUS_RATES, from a mart named in sql/",
    ("pipelines/reconcile.py", "build_marts", "execute"):
        "count(*) from a table named in the constant MARTS",
    ("pipelines/reconcile.py", "write_mart", "execute"):
        "COPY TO a temporary path under the configured lake, quotes doubled; the lake folder is "
        "validated (no control characters). Better without SQL text: connection.table(mart).write_parquet(path)",
}


def _assembled(node: ast.expr) -> bool:
    """A string built at run time: an f-string, + or % on strings, or str.format."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


def assembled_queries(root: Path) -> set[tuple[str, str, str]]:
    found = set()
    for path in sorted([*root.glob("pipelines/**/*.py"), *root.glob("dags/*.py"), *root.glob("expectations/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for call in ast.walk(function):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr in QUERY_METHODS and call.args and _assembled(call.args[0])):
                    found.add((path.relative_to(root).as_posix(), function.name, call.func.attr))
    return found


def test_no_query_is_assembled_from_text_that_is_not_ours():
    assert assembled_queries(PROJECT) - set(REVIEWED_ASSEMBLY) == set()


def test_the_audit_would_catch_a_value_pasted_into_sql(tmp_path):
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "bad.py").write_text(
        "def rates(connection, force):\n"
        "    return connection.execute(f\"select * from rates where force_code = '{force}'\")\n"
        "def fine(connection, force):\n"
        "    return connection.execute('select * from rates where force_code = $force', {'force': force})\n"
    )
    assert assembled_queries(tmp_path) == {("pipelines/bad.py", "rates", "execute")}
