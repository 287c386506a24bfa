"""Settings: defaults, a force's own file, overrides, and the pseudonymisation key's rules."""

from __future__ import annotations

import pytest

from pipelines.pseudonymise import person_key, person_keys
from pipelines.settings import DEMO_PSEUDONYM_KEY, ConfigurationError, load_settings

pytestmark = pytest.mark.unit


def test_force_without_a_file_runs_on_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("CDI_CONFIG_DIR", str(tmp_path))
    settings = load_settings("ZZZ", landing_dir=tmp_path, lake_dir=tmp_path, demo=True)
    assert settings.thresholds["unrecorded_rate"]["overall"] == 0.05
    assert settings.recording_window_hours == 24


def test_force_file_and_overrides_layer(tmp_path, monkeypatch):
    monkeypatch.setenv("CDI_CONFIG_DIR", str(tmp_path))
    (tmp_path / "forces").mkdir()
    (tmp_path / "forces" / "ESX.yaml").write_text("thresholds:\n  unrecorded_rate:\n    overall: 0.08\nlookback_days: 30\n")
    settings = load_settings("ESX", landing_dir=tmp_path, lake_dir=tmp_path, demo=True,
                             overrides={"lookback_days": 14})
    assert settings.thresholds["unrecorded_rate"]["overall"] == 0.08
    assert settings.thresholds["unrecorded_rate"]["crime_group"]["SEXUAL_OFFENCES"] == 0.03  # kept from defaults
    assert settings.lookback_days == 14


def test_key_is_required_outside_demo(tmp_path, monkeypatch):
    monkeypatch.delenv("CDI_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="CDI_PSEUDONYM_KEY"):
        load_settings("KNT", landing_dir=tmp_path, lake_dir=tmp_path)
    monkeypatch.setenv("CDI_PSEUDONYM_KEY", DEMO_PSEUDONYM_KEY.decode())
    with pytest.raises(ConfigurationError, match="demo pseudonymisation key"):
        load_settings("KNT", landing_dir=tmp_path, lake_dir=tmp_path)
    monkeypatch.setenv("CDI_PSEUDONYM_KEY", "short")
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        load_settings("KNT", landing_dir=tmp_path, lake_dir=tmp_path)
    monkeypatch.setenv("CDI_PSEUDONYM_KEY", "a-real-secret-of-sufficient-length")
    settings = load_settings("KNT", landing_dir=tmp_path, lake_dir=tmp_path)
    assert settings.pseudonym_key == b"a-real-secret-of-sufficient-length"
    assert "secret" not in repr(settings)


@pytest.mark.parametrize("force", ["kNT", "K", "TOOLONG", "K1", "../x", "KNT; drop"])
def test_force_codes_are_validated(tmp_path, force):
    with pytest.raises(ConfigurationError, match="2-5 capital letters"):
        load_settings(force, landing_dir=tmp_path, lake_dir=tmp_path, demo=True)


def test_person_keys_join_across_records_and_depend_on_the_key():
    key = b"k" * 32
    assert person_keys(["P1", " P1 ", None, "", "P2"], key) == [person_key("P1", key), person_key("P1", key), None, None, person_key("P2", key)]
    assert person_key("P1", key) != person_key("P1", b"x" * 32)
    assert len(person_key("P1", key)) == 32 and "P1" not in person_key("P1", key)


def test_the_c3_rule_must_leave_days_of_the_window_to_judge(tmp_path, monkeypatch):
    monkeypatch.setenv("CDI_CONFIG_DIR", str(tmp_path))
    assert load_settings("ZZZ", landing_dir=tmp_path, lake_dir=tmp_path, demo=True).duplicate_record_days == 7
    with pytest.raises(ConfigurationError, match="'duplicate_record_days' \\(7\\) must be less than lookback_days \\(7\\)"):
        load_settings("ZZZ", landing_dir=tmp_path, lake_dir=tmp_path, demo=True, overrides={"lookback_days": 7})
