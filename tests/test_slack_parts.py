"""The bot's small parts: repeated deliveries, settings from the environment, reading questions,
the answer store, and `exorag slack` refusing to start without its tokens."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from exorag.cli import app as cli
from exorag.models import Answer
from exorag.slack.answers import AnswerStore
from exorag.slack.app import question_from
from exorag.slack.dedupe import SeenEvents, delivery_key
from exorag.slack.settings import SlackConfigError, SlackSettings, check_settings

SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "EXORAG_SLACK_API_URL",
                   "EXORAG_SLACK_ALLOWED_CHANNELS", "EXORAG_SLACK_ALLOWED_TEAMS", "EXORAG_SLACK_ALLOW_DMS")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_an_event_is_seen_once_until_it_expires():
    seen = SeenEvents(ttl_seconds=0.2)
    assert seen.first_time("event:Ev1")
    assert not seen.first_time("event:Ev1")
    assert seen.first_time("event:Ev2")
    time.sleep(0.3)
    assert seen.first_time("event:Ev1")


def test_seen_events_stay_bounded():
    seen = SeenEvents(max_entries=100)
    for i in range(1000):
        assert seen.first_time(f"k{i}")
    assert len(seen._seen) <= 100
    assert not seen.first_time("k999")


def test_delivery_keys_are_the_event_id_or_the_trigger_id():
    assert delivery_key({"type": "event_callback", "event_id": "Ev9"}) == "event:Ev9"
    assert delivery_key({"command": "/exorag", "trigger_id": "13.45"}) == "trigger:13.45"
    assert delivery_key({"type": "url_verification"}) is None


def test_settings_come_from_the_environment(clean_env):
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    clean_env.setenv("SLACK_SIGNING_SECRET", "s3cret")
    clean_env.setenv("EXORAG_SLACK_API_URL", "http://127.0.0.1:9/api")
    clean_env.setenv("EXORAG_SLACK_ALLOWED_CHANNELS", "C1, C2,")
    clean_env.setenv("EXORAG_SLACK_ALLOWED_TEAMS", "T1")
    clean_env.setenv("EXORAG_SLACK_ALLOW_DMS", "false")
    slack = SlackSettings()
    assert slack.bot_token.get_secret_value() == "xoxb-1"
    assert slack.api_url == "http://127.0.0.1:9/api/"
    assert slack.allowed_channels == {"C1", "C2"} and slack.allowed_teams == {"T1"}
    assert slack.channel_allowed("C1") and not slack.channel_allowed("C3") and not slack.channel_allowed("D1")
    assert slack.team_allowed("T1") and not slack.team_allowed("T2")
    assert "xoxb-1" not in repr(slack)


def test_no_allow_lists_allow_everything(clean_env):
    slack = SlackSettings()
    assert slack.channel_allowed("C123") and slack.channel_allowed("D123") and slack.team_allowed("T9")


def test_a_bad_api_url_names_the_variable(clean_env):
    clean_env.setenv("EXORAG_SLACK_API_URL", "slack.com/api")
    with pytest.raises(ValueError, match="EXORAG_SLACK_API_URL"):
        SlackSettings()


@pytest.mark.parametrize(("values", "http", "missing"), [
    ({}, True, "SLACK_BOT_TOKEN"),
    ({"bot_token": "xoxb-1"}, True, "SLACK_SIGNING_SECRET"),
    ({"bot_token": "xoxb-1", "signing_secret": "s"}, False, "SLACK_APP_TOKEN"),
])
def test_each_mode_names_the_token_it_misses(clean_env, values, http, missing):
    with pytest.raises(SlackConfigError, match=missing):
        check_settings(SlackSettings(**values), http)


def test_complete_settings_pass_for_both_modes(clean_env):
    check_settings(SlackSettings(bot_token="xoxb-1", signing_secret="s"), http=True)
    check_settings(SlackSettings(bot_token="xoxb-1", app_token="xapp-1"), http=False)


def test_exorag_slack_refuses_to_start_without_a_token(clean_env):
    result = CliRunner().invoke(cli, ["slack", "--http"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN" in result.output


def test_questions_lose_the_mention_and_keep_links_readable():
    text = "<@U_BOT> what does &lt;PD-L1&gt; do &amp; <https://doi.org/10.1|this paper> say? <@U_BOT|exorag>"
    assert question_from(text, "U_BOT") == "what does <PD-L1> do & this paper say?"
    assert question_from("<@U_BOT>   ", "U_BOT") == ""
    assert question_from("ask <@U_OTHER> too", "U_BOT") == "ask @U_OTHER too"


def test_answers_are_stored_by_id_and_expire(tmp_path):
    store = AnswerStore(tmp_path / "answers.sqlite3")
    first = Answer(question="q1", answer="a1")
    answer_id = store.put(first)
    assert AnswerStore(tmp_path / "answers.sqlite3").get(answer_id) == first
    assert store.get("no-such-id") is None
    short = AnswerStore(tmp_path / "short.sqlite3", keep_seconds=0.1)
    old = short.put(first)
    time.sleep(0.2)
    short.put(Answer(question="q2", answer="a2"))
    assert short.get(old) is None
