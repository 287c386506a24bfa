"""Audit samples and auditors' verdicts (pipelines/audit.py), with an auditor simulated from the
ground truth: does the audited interval cover the rate a census would find?"""

from __future__ import annotations

import csv
import math
import shutil

import pytest

from pipelines import audit, lake
from pipelines.cli import main
from tests.reconcile.conftest import FORCE

pytestmark = [pytest.mark.unit, pytest.mark.slow]


def test_stratum_sizes_follow_the_half_widths():
    frame = {"VIOLENCE": {"candidates": 100_000, "crimes": 100_000, "rate": 0.8},
             "OTHER_GROUPS": {"candidates": 100_000, "crimes": 100_000, "rate": 0.9}}
    sizes = audit.stratum_sizes(frame, 0.02, 0.033)
    z2 = 1.959964**2
    violence = z2 * 0.16 / 0.033**2  # 564.4 before the finite population correction
    assert sizes["VIOLENCE"] == math.ceil(violence / (1 + (violence - 1) / 100_000))
    # The rest makes up what the overall +/- 2 points still needs.
    budget = (0.02 / 1.959964) ** 2 - 0.25 * 0.16 / sizes["VIOLENCE"]
    rest = 0.25 * 0.09 / budget
    assert sizes["OTHER_GROUPS"] == math.ceil(rest / (1 + (rest - 1) / 100_000))
    # A small stratum is sampled whole at most.
    assert audit.stratum_sizes({**frame, "VIOLENCE": {"candidates": 50, "crimes": 50, "rate": 0.8}}, 0.02, 0.033)["VIOLENCE"] <= 50


def _auditor(kent) -> dict[str, dict]:
    """What a careful auditor would say of each candidate: the simulator's truth."""
    with kent.connection() as connection:
        rows = connection.execute("""
            select outcomes.candidate_ref, outcomes.route, outcomes.outcome, outcomes.recorded_crimes,
                   coalesce(incidents.truly_crime, referrals.truly_crime, outcomes.route = 'OTHER') as truly_crime,
                   coalesce(incidents.true_crime_count, referrals.true_crime_count, 1) as true_crimes,
                   coalesce(incidents.failure_mode, referrals.failure_mode) as failure_mode,
            from candidate_outcomes as outcomes
            left join truth_incidents as incidents on outcomes.route = 'CALL' and incidents.incident_ref = outcomes.candidate_ref
            left join truth_referrals as referrals on outcomes.route = 'REFERRAL' and referrals.referral_ref = outcomes.candidate_ref
        """).fetchall()
    verdicts = {}
    for ref, route, outcome, recorded, truly, true_crimes, failure in rows:
        if not truly:
            verdicts[ref] = {"verdict": "NO_CRIME", "crimes_due": 0, "crimes_recorded": 0}
            continue
        if outcome == "CANCELLED_QUESTIONABLE" or failure in ("downgrade", "da_closed_as_domestic", "referral_not_recorded",
                                                             "rape_no_crime_no_n100"):
            done = 0
        else:
            done = min(recorded, true_crimes)
        verdicts[ref] = {"verdict": "CRIME", "crimes_due": true_crimes, "crimes_recorded": done}
    return verdicts


def _fill_in(sample_file, verdicts, target):
    with open(sample_file, newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(target, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            verdict = verdicts[row["candidate_ref"]]
            writer.writerow({**row, "verdict": verdict["verdict"], "crimes_due": verdict["crimes_due"],
                             "crimes_recorded": verdict["crimes_recorded"], "auditor": "simulated"})
    return target


def test_the_same_seed_draws_the_same_sample(kent, tmp_path):
    first = audit.draw_sample(kent.settings, kent.snapshot, seed=3)
    first_rows = open(first.sample_file).read()
    again = audit.draw_sample(kent.settings, kent.snapshot, seed=3)
    assert open(again.sample_file).read() == first_rows
    other = audit.draw_sample(kent.settings, kent.snapshot, seed=4)
    assert open(other.sample_file).read() != first_rows
    assert [s.stratum for s in first.strata] == ["VIOLENCE", "OTHER_GROUPS"]
    assert all(0 < s.sample_size <= s.frame_candidates for s in first.strata)


def test_audited_intervals_cover_the_census_rate(kent, tmp_path):
    auditor = _auditor(kent)
    plan = audit.draw_sample(kent.settings, kent.snapshot, seed=1)
    frame, _, _ = audit._frame(kent.settings, kent.snapshot)
    census_due = sum(auditor[row["candidate_ref"]]["crimes_due"] for row in frame)
    census_rate = sum(auditor[row["candidate_ref"]]["crimes_recorded"] for row in frame) / census_due
    covered, seeds = 0, range(1, 41)
    for seed in seeds:
        # Wider half-widths than the inspectorate's: on this small force their samples would be
        # most of the frame; these draw about a fifth of it.
        plan = audit.draw_sample(kent.settings, kent.snapshot, seed=seed, overall_half_width=0.05,
                                 violence_half_width=0.08)
        rates = audit.ingest_verdicts(kent.settings, kent.snapshot,
                                      _fill_in(plan.sample_file, auditor, tmp_path / f"verdicts-{seed}.csv"))
        overall = rates[0]
        covered += overall["audited_ci_lower"] <= census_rate <= overall["audited_ci_upper"]
    # 95% intervals: about 38 of 40 should cover (100 seeds covered 96 times when this was written).
    assert covered / len(seeds) >= 0.85, (covered, census_rate)
    # The audited rate is the honest one: above the screened rate, which counts every
    # crime-coded call closed as a non-crime against the force.
    assert overall["audited_rate"] > overall["screened_rate"]
    results = lake.read_json(lake.reports_dir(kent.settings.lake_dir, FORCE, kent.snapshot) / audit.RESULTS_FILE)
    assert [row["dimension_value"] for row in results["rates"]] == ["ALL", "VIOLENCE", "OTHER_GROUPS"]


def test_bad_verdict_rows_are_named_line_by_line(kent, tmp_path):
    plan = audit.draw_sample(kent.settings, kent.snapshot, seed=2)
    filled = _fill_in(plan.sample_file, _auditor(kent), tmp_path / "verdicts.csv")
    lines = open(filled).read().splitlines()
    header, first, second = lines[0], lines[1], lines[2]
    bad = [header, first.replace(",CRIME,", ",MAYBE,").replace(",NO_CRIME,", ",MAYBE,"), first,
           "OTHER_GROUPS,KNT-NOT-SAMPLED,CALL,THEFT,2024-06-01,UNRECORDED,1,0,CRIME,1,0,x,"] + lines[3:]
    (tmp_path / "bad.csv").write_text("\n".join(bad) + "\n")
    with pytest.raises(audit.AuditInputError) as raised:
        audit.ingest_verdicts(kent.settings, kent.snapshot, tmp_path / "bad.csv")
    message = str(raised.value)
    assert "line 2: verdict must be CRIME or NO_CRIME, got 'MAYBE'" in message
    assert "line 3: " in message and "already given on line 2" in message
    assert "line 4: candidate_ref 'KNT-NOT-SAMPLED' is not in the sample" in message
    assert "1 sampled candidates have no verdict" in message and second.split(",")[1] in message


def test_cli_audit_sample_and_ingest(kent, tmp_path, capsys):
    lake_copy = shutil.copytree(kent.settings.lake_dir, tmp_path / "lake")
    common = ["--force", FORCE, "--date", kent.snapshot.isoformat(), "--lake", str(lake_copy)]
    assert main(["audit", "sample", *common, "--seed", "5"]) == 0
    sample_file = lake.reports_dir(lake_copy, FORCE, kent.snapshot) / audit.SAMPLE_FILE
    assert f"Audit sample: {sample_file}" in capsys.readouterr().out
    filled = _fill_in(sample_file, _auditor(kent), tmp_path / "verdicts.csv")
    assert main(["audit", "ingest", *common, "--verdicts", str(filled)]) == 0
    out = capsys.readouterr().out
    assert "ALL" in out and "audited" in out and "screened" in out
    assert main(["audit", "ingest", *common]) == 2
    assert "needs --verdicts" in capsys.readouterr().err


def test_cli_audit_ingest_takes_an_excel_file_and_names_bad_lines(kent, tmp_path, capsys):
    """As Excel saves a filled-in sample: Windows-1252, accented notes, rows of empty cells below."""
    lake_copy = shutil.copytree(kent.settings.lake_dir, tmp_path / "lake")
    common = ["--force", FORCE, "--date", kent.snapshot.isoformat(), "--lake", str(lake_copy)]
    assert main(["audit", "sample", *common, "--seed", "6"]) == 0
    filled = _fill_in(lake.reports_dir(lake_copy, FORCE, kent.snapshot) / audit.SAMPLE_FILE, _auditor(kent),
                      tmp_path / "filled.csv")
    header, *rows = open(filled, newline="").read().splitlines()
    rows = [row + "Vérifié" for row in rows]  # notes, the last column
    empty = "," * (len(audit.SAMPLE_COLUMNS) - 1)
    (tmp_path / "excel.csv").write_bytes("\r\n".join([header, *rows, empty, empty, ""]).encode("cp1252"))
    capsys.readouterr()
    assert main(["audit", "ingest", *common, "--verdicts", str(tmp_path / "excel.csv")]) == 0
    assert "ALL" in capsys.readouterr().out
    # A crime due no times contradicts itself: refused, naming the file, the line and the field.
    crime = next(number for number, row in enumerate(rows) if ",CRIME," in row)
    fields = rows[crime].split(",")
    fields[audit.SAMPLE_COLUMNS.index("crimes_due")] = "0"
    fields[audit.SAMPLE_COLUMNS.index("crimes_recorded")] = "0"
    rows[crime] = ",".join(fields)
    (tmp_path / "contradiction.csv").write_bytes("\r\n".join([header, *rows, empty, ""]).encode("cp1252"))
    assert main(["audit", "ingest", *common, "--verdicts", str(tmp_path / "contradiction.csv")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(tmp_path / "contradiction.csv") in error
    assert f"1 problems: line {crime + 2}: crimes_due 0 contradicts verdict CRIME" in error
