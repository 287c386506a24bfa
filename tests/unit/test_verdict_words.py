"""How the verdict, the alert and the report put figures into words: a change between two rates
as the figures read, the share within 24 hours with its interval, and a passed run's warnings in
the subject line."""

import datetime as dt
from pathlib import Path

from pipelines import notify
from pipelines.verdict import RateLine, Verdict, change_in_points, verdict_text


def _overall(**fields) -> RateLine:
    values = dict(dimension="overall", group="ALL", candidate_crimes=1000, recorded=900, unrecorded=100,
                  recording_rate=0.9, ci_lower=0.88, ci_upper=0.92, share_within_24h=0.907, threshold=0.05,
                  recorded_within_24h=816, share_ci_lower=0.888, share_ci_upper=0.922)
    values.update(fields)
    return RateLine(**values)


def test_a_change_is_the_difference_of_the_figures_as_they_read():
    # 76.777% reads 76.8%, 76.739% reads 76.7%: a change of -0.1 points, never "no change" or "-0.0"
    assert change_in_points(0.76739, 0.76777) == -0.1
    assert notify._points(0.76739, 0.76777) == "-0.1 points"
    # two rates that read the same figure have not changed, whatever their last digits
    assert change_in_points(0.76741, 0.76711) == 0
    assert notify._points(0.76741, 0.76711) == "no change"
    assert notify._points(None, 0.5) == "n/a"


def test_the_share_within_24_hours_carries_its_interval():
    verdict = Verdict(force="KNT", snapshot_date=dt.date(2024, 6, 28), gate_evaluated=True, passed=True,
                      rates=(_overall(),), breaches=(), warnings=(), worklist_items=0, reports_dir=Path("reports"))
    assert "Recorded within 24 hours: 90.7% (95% CI 88.8% to 92.2%) of recorded crimes" in verdict_text(verdict)


def test_a_passed_run_names_its_warnings_in_the_subject():
    warning = {"check": "rape_unrecorded", "count": 1, "description": "1 rape report(s) not resolved ..."}
    assert notify._warning_in_brief(warning) == "1 rape report(s) not resolved"
    # a rate check a force made a warning names its group
    rate = {"check": "unrecorded_rate", "dimension": "crime_group", "dimension_value": "THEFT", "count": None}
    assert notify._warning_in_brief(rate) == "unrecorded_rate crime_group THEFT"
