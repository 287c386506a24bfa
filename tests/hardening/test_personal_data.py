"""No name, phone number, address or raw person id of the simulated force reaches anything the
pipeline writes; the keyed hash's key comes from a secret; everything written is private to its owner.

The scan reads every file as a person would see it: Parquet decoded (its pages are compressed, so
a byte search would see nothing), e-mails decoded part by part (attachments are base64), HTML and
JSON unescaped. It compares sequences of words, case-insensitively, so "Claire James" is found
as "claire james", "Claire, James" or "Claire\\nJames" too.
"""

from __future__ import annotations

import csv
import email
import email.policy
import html
import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import lake
from pipelines.pseudonymise import person_key
from pipelines.settings import DEMO_PSEUDONYM_KEY
from tests.hardening.conftest import FORCE, PROJECT, TODAY, cdi, python_env, run_stages

pytestmark = [pytest.mark.e2e]

PERSONAL_COLUMNS = ("caller_name", "caller_phone", "location_text", "victim_name", "subject_name")
PERSON_ID_COLUMNS = ("victim_person_ids", "victim_person_id")
WORD = re.compile(r"\w+")
BUILD_DATA_DOCS = """
import sys
from pipelines import quality, stages
from pipelines.settings import load_settings
settings = load_settings(sys.argv[1], landing_dir=sys.argv[2], lake_dir=sys.argv[3], demo=True)
print(quality.build_data_docs(stages.quality_dir(settings)))
"""


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.casefold() for word in WORD.findall(text))


def personal_values(landing: Path) -> dict[tuple[str, ...], str]:
    """Word sequence -> what it is, for every personal value and raw person id in the exports."""
    values: dict[tuple[str, ...], str] = {}
    for path in sorted((landing / FORCE).glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for column in PERSONAL_COLUMNS + PERSON_ID_COLUMNS:
                    for value in (row.get(column) or "").split("|"):
                        if _words(value):
                            values[_words(value)] = f"{column} {value!r} from {path.name}"
    return values


def readable_text(path: Path) -> str:
    """A file's content as a reader would see it."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return json.dumps(table.to_pylist(), default=str, ensure_ascii=False) + str(table.schema)
    data = path.read_bytes()
    if path.suffix == ".eml":
        message = email.message_from_bytes(data, policy=email.policy.default)
        parts = [str(value) for value in message.values()]
        for part in message.walk():
            if not part.is_multipart():
                content = part.get_content()
                parts.append(content.decode("utf-8", "replace") if isinstance(content, bytes) else content)
        return "\n".join(parts)
    text = data.decode("utf-8", "replace")
    if path.suffix == ".json":
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return html.unescape(text)


def find_personal_values(text: str, values: dict[tuple[str, ...], str]) -> list[str]:
    lengths_by_first_word: dict[str, set[int]] = {}
    for words in values:
        lengths_by_first_word.setdefault(words[0], set()).add(len(words))
    words = _words(text)
    found = []
    for start, word in enumerate(words):
        for length in lengths_by_first_word.get(word, ()):
            if words[start:start + length] in values:
                found.append(values[words[start:start + length]])
    return found


@pytest.fixture(scope="module")
def demo_run(simulated_landing, tmp_path_factory) -> dict:
    """`cdi run --demo` with debug logging on a fresh lake, plus the GX Data Docs of its results."""
    lake_dir = tmp_path_factory.mktemp("personal") / "lake"
    run = cdi("--debug", "run", "--force", FORCE, "--date", TODAY.isoformat(), "--landing", str(simulated_landing),
              "--lake", str(lake_dir), "--demo")
    assert run.returncode in (0, 1), run.stderr[-3000:]
    docs = subprocess.run([sys.executable, "-c", BUILD_DATA_DOCS, FORCE,
                           str(simulated_landing), str(lake_dir)],
                          capture_output=True, text=True, cwd=PROJECT, env=python_env(), timeout=300)
    assert docs.returncode == 0, docs.stderr[-3000:]
    return {"lake": lake_dir, "stdout": run.stdout + docs.stdout, "stderr": run.stderr + docs.stderr,
            "data_docs": Path(docs.stdout.strip().splitlines()[-1])}


def test_the_scan_finds_personal_data_where_it_is(simulated_landing):
    """The control: in the landing exports themselves the scan finds every value it looks for."""
    values = personal_values(simulated_landing)
    assert len(values) > 500
    kinds = {description.split()[0] for description in values.values()}
    assert kinds == set(PERSONAL_COLUMNS + PERSON_ID_COLUMNS)
    found = set()
    for path in (simulated_landing / FORCE).glob(f"*{TODAY.isoformat()}.csv"):
        found.update(find_personal_values(readable_text(path), values))
    assert {description.split()[0] for description in found} == kinds


def test_no_personal_data_in_anything_the_pipeline_writes(demo_run, simulated_landing):
    values = personal_values(simulated_landing)
    lake_dir = demo_run["lake"]
    written = [path for path in sorted(lake_dir.rglob("*")) if path.is_file()]
    assert {area.name for area in lake_dir.iterdir()} >= {"raw", "quarantine", "marts", "manifests", "reports", "quality", "outbox"}
    assert any(path.suffix == ".eml" for path in written) and any(path.name == "index.html" for path in written)
    assert any("validations" in path.parts for path in written)  # GX results
    leaks = {str(path.relative_to(lake_dir)): find_personal_values(readable_text(path), values) for path in written}
    leaks["stdout"] = find_personal_values(demo_run["stdout"], values)
    leaks["stderr (debug log)"] = find_personal_values(demo_run["stderr"], values)
    assert {where: found[:3] for where, found in leaks.items() if found} == {}


def test_everything_written_is_private_to_its_owner(demo_run):
    lake_dir = demo_run["lake"]
    exposed = [
        f"{oct(stat.S_IMODE(path.stat().st_mode))} {path.relative_to(lake_dir.parent)}"
        for path in [lake_dir, *sorted(lake_dir.rglob("*"))]
        if stat.S_IMODE(path.stat().st_mode) & 0o077
    ]
    assert exposed == []
    assert demo_run["data_docs"].stat().st_mode & 0o077 == 0


def test_the_demo_key_is_refused_outside_demo_mode(simulated_landing, tmp_path):
    run = cdi("run", "--force", FORCE, "--date", TODAY.isoformat(), "--landing", str(simulated_landing),
              "--lake", str(tmp_path / "lake"), CDI_PSEUDONYM_KEY=DEMO_PSEUDONYM_KEY.decode())
    assert run.returncode == 2
    [message] = run.stderr.strip().splitlines()
    assert message.startswith("cdi") and message.endswith("error: the demo pseudonymisation key may only be used with --demo")
    assert not (tmp_path / "lake").exists()


def test_person_keys_come_from_the_deployments_secret(simulated_landing, tmp_path):
    secret = "a deployment secret, from its secret store"
    run = run_stages(simulated_landing, tmp_path / "lake", TODAY, "extract", demo=False, CDI_PSEUDONYM_KEY=secret)
    assert run.returncode == 0, run.stderr
    with open(simulated_landing / FORCE / f"crimes_{TODAY.isoformat()}.csv", newline="", encoding="utf-8") as handle:
        source_ids = {row["crime_ref"]: row["victim_person_id"] for row in csv.DictReader(handle)}
    stored = pq.read_table(lake.raw_path(tmp_path / "lake", "crimes", FORCE, TODAY)).to_pylist()
    with_victim = [row for row in stored if row["victim_person_key"]]
    assert with_victim
    for row in with_victim:
        source_id = source_ids[row["crime_ref"]]
        assert row["victim_person_key"] == person_key(source_id, secret.encode())
        assert row["victim_person_key"] != person_key(source_id, DEMO_PSEUDONYM_KEY)
