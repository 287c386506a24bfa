"""The breach posted to a Teams or Slack incoming webhook: a real HTTP server on localhost receives it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipelines import notify
from pipelines.settings import load_settings
from tests.airflow.conftest import SECRET_WEBHOOK_PATH as SECRET_PATH
from tests.airflow.conftest import Webhook, free_port
from tests.report.simulated import FORCE, SNAPSHOT, shared_base, simulated_lake

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def breaching(tmp_path_factory):
    return simulated_lake(shared_base(tmp_path_factory), "kent-2017", (SNAPSHOT,))


def settings_of(lake_dir: Path):
    return load_settings(FORCE, landing_dir=".", lake_dir=lake_dir, need_key=False)


def test_a_breach_is_posted_to_the_webhook_with_the_verdict_and_no_secret_in_the_log(breaching, caplog, monkeypatch):
    monkeypatch.delenv(notify.SMTP_URL_ENV, raising=False)
    caplog.set_level(logging.INFO, logger="pipelines.notify")
    with Webhook() as webhook:
        outcome = notify.notify_registrar(settings_of(breaching.lake), SNAPSHOT, webhook_url=webhook.url)

    assert outcome["outbox_file"]  # the email is not replaced by the chat message
    assert outcome["webhook"] == f"posted to http://127.0.0.1:{webhook.server.server_port} (HTTP 200)"
    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    assert (post["path"], post["content_type"]) == (SECRET_PATH, "application/json")
    text = post["json"]["text"]
    assert text.startswith(f"*[cdi-monitor] {FORCE} {SNAPSHOT.isoformat()}: BREACHED, recording rate ")
    assert "Recording rate overall:" in text and "BREACH" in text
    assert len(text.splitlines()) <= notify.WEBHOOK_MAX_LINES + 4
    assert "s3cr3t-webhook-token" not in caplog.text  # a webhook URL's path is its password


def test_the_webhook_hears_nothing_when_the_gates_pass(tmp_path_factory, monkeypatch):
    from tests.cli.conftest import LENIENT_FORCE_FILE

    config = tmp_path_factory.mktemp("lenient-webhook")
    (config / "forces").mkdir()
    (config / "forces" / f"{FORCE}.yaml").write_text(LENIENT_FORCE_FILE, encoding="utf-8")
    passing = simulated_lake(shared_base(tmp_path_factory), "outstanding", (SNAPSHOT,),
                             env={"CDI_CONFIG_DIR": str(config)})
    monkeypatch.setenv("CDI_CONFIG_DIR", str(config))
    monkeypatch.delenv(notify.SMTP_URL_ENV, raising=False)
    with Webhook() as webhook:
        outcome = notify.notify_registrar(settings_of(passing.lake), SNAPSHOT, webhook_url=webhook.url)
    assert "webhook" not in outcome and webhook.posts == []


@pytest.mark.parametrize("status", [403, 500])
def test_a_webhook_that_refuses_loses_nothing(breaching, status, monkeypatch):
    monkeypatch.delenv(notify.SMTP_URL_ENV, raising=False)
    with Webhook(status=status) as webhook:
        outcome = notify.notify_registrar(settings_of(breaching.lake), SNAPSHOT, webhook_url=webhook.url)
    assert outcome["webhook"] == f"failed: HTTP {status} from http://127.0.0.1:{webhook.server.server_port}"
    assert Path(outcome["outbox_file"]).exists() and len(webhook.posts) == 1


def test_an_unreachable_webhook_loses_nothing_and_the_url_comes_from_the_environment(breaching, monkeypatch):
    monkeypatch.delenv(notify.SMTP_URL_ENV, raising=False)
    monkeypatch.setenv(notify.WEBHOOK_URL_ENV, f"http://127.0.0.1:{free_port()}{SECRET_PATH}")
    outcome = notify.notify_registrar(settings_of(breaching.lake), SNAPSHOT)
    assert outcome["webhook"].startswith("failed: ") and Path(outcome["outbox_file"]).exists()
    assert "s3cr3t" not in outcome["webhook"]
