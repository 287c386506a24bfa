"""The `cdi` command line as scripts and people meet it: the real executable in a child process.

Exit codes: 0 passed, 1 gate breached, 2 error. An error is one line on stderr (no traceback
unless --debug); results go to stdout; progress bars appear only on a terminal.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios

import pytest

from tests.report.simulated import BIN, FORCE, SNAPSHOT, cdi

COMMANDS = ("simulate", "run", "verdict", "report", "backfill", "audit")


def assert_one_line_error(result: subprocess.CompletedProcess, command: str, *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cdi {command}: error: "), lines[0]
    assert "Traceback" not in result.stderr and "usage:" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


# -- help ---------------------------------------------------------------------------------------
@pytest.mark.unit
def test_help_names_every_command_and_the_exit_codes():
    result = cdi("--help")
    assert result.returncode == 0 and result.stderr == ""
    for command in COMMANDS:
        assert command in result.stdout
    assert "exit codes: 0 passed, 1 gate breached, 2 error" in result.stdout


@pytest.mark.unit
@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help_with_examples(command):
    result = cdi(command, "--help")
    assert result.returncode == 0 and result.stderr == ""
    assert "examples:" in result.stdout
    examples = result.stdout.split("examples:", 1)[1]
    assert any(line.strip().startswith(f"cdi {command} ") and "--force KNT" in line for line in examples.splitlines())
    assert "--force FORCE" in result.stdout


@pytest.mark.unit
@pytest.mark.parametrize("command", ("run", "verdict", "report"))
def test_the_same_options_mean_the_same_thing(command):
    text = " ".join(cdi(command, "--help").stdout.split())
    assert "--force FORCE force code, 2-5 capital letters, e.g. KNT" in text
    assert "--lake LAKE the Parquet lake folder" in text


# -- usage errors -------------------------------------------------------------------------------
@pytest.mark.unit
def test_missing_options_are_one_line_and_exit_2():
    assert_one_line_error(cdi("run", "--force", FORCE), "run", "--date", "--landing", "--lake", "cdi run --help")


@pytest.mark.unit
def test_a_bad_date_or_force_is_one_line_and_exit_2(tmp_path):
    assert_one_line_error(cdi("verdict", "--force", FORCE, "--date", "28/06/2024", "--lake", str(tmp_path)),
                          "verdict", "'28/06/2024' is not a date of the form YYYY-MM-DD")
    assert_one_line_error(cdi("verdict", "--force", "kent", "--date", "2024-06-28", "--lake", str(tmp_path)),
                          "verdict", "force code 'kent'")


@pytest.mark.unit
def test_an_unknown_command_is_one_line_and_exit_2():
    result = cdi("backfil")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and result.stderr.startswith("cdi: error:")


# -- errors while working -----------------------------------------------------------------------
@pytest.mark.unit
def test_a_missing_run_is_one_line_and_exit_2(tmp_path):
    result = cdi("verdict", "--force", FORCE, "--date", "2024-06-28", "--lake", str(tmp_path / "lake"))
    assert_one_line_error(result, "verdict", "no recording_rates mart for KNT 2024-06-28", "has that run finished?")


@pytest.mark.unit
def test_debug_adds_the_traceback_and_keeps_exit_2(tmp_path):
    for flags in (("--debug", "verdict"), ("verdict", "--debug")):
        result = cdi(*flags, "--force", FORCE, "--date", "2024-06-28", "--lake", str(tmp_path / "lake"))
        assert result.returncode == 2
        assert "Traceback (most recent call last)" in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("cdi verdict: error: no recording_rates mart")


@pytest.mark.unit
def test_a_run_without_the_pseudonymisation_key_is_refused(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "CDI_PSEUDONYM_KEY"}
    result = subprocess.run(
        [str(BIN / "cdi"), "run", "--force", FORCE, "--date", "2024-06-28", "--landing", str(tmp_path),
         "--lake", str(tmp_path / "lake")], capture_output=True, text=True, env=environment, timeout=120,
    )
    assert_one_line_error(result, "run", "no pseudonymisation key", "CDI_PSEUDONYM_KEY", "--demo")


@pytest.mark.unit
def test_a_run_on_an_empty_landing_folder_is_one_line(tmp_path):
    result = cdi("run", "--force", FORCE, "--date", "2024-06-28", "--landing", str(tmp_path / "landing"),
                 "--lake", str(tmp_path / "lake"), "--demo")
    assert_one_line_error(result, "run", "incidents")


@pytest.mark.unit
def test_a_backfill_of_dates_not_in_the_lake_without_landing_says_so(tmp_path):
    result = cdi("backfill", "--force", FORCE, "--from", "2024-06-01", "--to", "2024-06-02",
                 "--lake", str(tmp_path / "lake"))
    assert_one_line_error(result, "backfill", "2 snapshot date(s) have neither raw partitions",
                          "no --landing (or --period-export) was given")


@pytest.mark.unit
def test_a_report_of_a_backwards_period_is_refused(tmp_path):
    result = cdi("report", "--force", FORCE, "--from", "2024-06-30", "--to", "2024-01-01", "--lake", str(tmp_path))
    assert_one_line_error(result, "report", "--to 2024-01-01 is before --from 2024-06-30")


# -- the verdict in exit codes ------------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.slow
def test_breached_is_1_and_passed_is_0_for_verdict_and_report(breaching_lake, passing_lake):
    for built, expected in ((breaching_lake, 1), (passing_lake, 0)):
        verdict = cdi("verdict", "--force", FORCE, "--date", SNAPSHOT.isoformat(), "--lake", str(built.lake), env=built.env)
        assert verdict.returncode == expected, verdict.stdout + verdict.stderr
        assert verdict.stderr == ""  # no logs, no progress bar without a terminal
        status = "BREACHED" if expected else "PASSED"
        assert f"verdict for {FORCE}, snapshot {SNAPSHOT.isoformat()}: {status}" in verdict.stdout
        # `make demo` ends with the verdict: its last line is the report to open.
        last = verdict.stdout.strip().splitlines()[-1]
        assert last == f"  Report:   {built.reports() / 'report.html'}"

        report = cdi("report", "--force", FORCE, "--from", "2024-05-01", "--to", "2024-06-25", "--lake", str(built.lake),
                     env=built.env)
        assert report.returncode == expected, report.stdout + report.stderr
        assert report.stderr == "" and f": {status}" in report.stdout.splitlines()[0]


@pytest.mark.e2e
@pytest.mark.slow
def test_a_report_of_a_period_no_run_covers_is_an_error(breaching_lake):
    result = cdi("report", "--force", FORCE, "--from", "2023-01-01", "--to", "2023-06-30", "--lake", str(breaching_lake.lake))
    assert_one_line_error(result, "report", "settles any report day from 2023-01-01 to 2023-06-30", "runs found: 2024-06-27")


# -- progress -----------------------------------------------------------------------------------
def run_with_terminal_stderr(*args: str) -> tuple[int, str, str]:
    """Run cdi with stderr on a pseudo-terminal (stdout stays a pipe); return code, stdout, stderr."""
    controller, terminal = pty.openpty()
    # a terminal of 30 rows and 100 columns: a zero-width one would leave tqdm no room to draw
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen([str(BIN / "cdi"), *args], stdout=subprocess.PIPE, stderr=terminal,
                               stdin=subprocess.DEVNULL, text=True)
    os.close(terminal)
    seen = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout = process.stdout.read()
    code = process.wait(timeout=120)
    os.close(controller)
    return code, stdout, seen.decode("utf-8", "replace")


@pytest.mark.e2e
@pytest.mark.slow
def test_progress_bars_only_on_a_terminal(tmp_path):
    args = ("simulate", "--force", FORCE, "--profile", "outstanding", "--from", "2024-06-20", "--to", "2024-06-24",
            "--seed", "3", "--scale", "0.01", "--landing")
    code, stdout, stderr = run_with_terminal_stderr(*args, str(tmp_path / "tty"))
    assert code == 0
    assert f"simulating {FORCE}:" in stderr and "/5 [" in stderr  # tqdm drew its bar on the terminal
    assert "wrote 15 exports" in stdout and "simulating" not in stdout

    piped = cdi(*args, str(tmp_path / "pipe"))
    assert piped.returncode == 0 and piped.stderr == ""
