"""The Slack bot end to end: the real Bolt app in HTTP mode on a loopback port, the real exorag
pipeline on the bundled corpus, a fake Slack Web API on loopback, and requests signed as Slack
signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from fake_slack_api import Call, FakeSlackAPI, FakeSocketMode
from slack_bolt.adapter.socket_mode import SocketModeHandler

from exorag.chain import AnswerOptions, answer
from exorag.config import Settings
from exorag.feedback import FeedbackStore, default_feedback_path
from exorag.slack import blocks
from exorag.slack.answers import AnswerStore
from exorag.slack.app import ANSWER_EVENT, NOT_HERE, build_app
from exorag.slack.run import make_http_server
from exorag.slack.settings import SlackSettings

TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM, LAB, DM, ALICE = "T_TEST", "C_LAB", "D_ALICE", "U_ALICE"
QUESTION = "How do tumour exosomes blunt T cells?"
# After an ignored or refused request: long enough for a wrongly started answer to post its placeholder.
QUIET_SECONDS = 1.0


@dataclass
class Bot:
    events_url: str
    fake: FakeSlackAPI
    settings: Settings

    def post(self, body: str, content_type: str, *, secret: str = SECRET, timestamp: int | None = None,
             headers: dict | None = None) -> httpx.Response:
        """POST ``body`` signed the way Slack signs requests (v0, HMAC-SHA256 of ``v0:ts:body``)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
        return httpx.post(self.events_url, content=body.encode(), timeout=10, headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
            **(headers or {})})

    def event(self, event: dict, *, team: str = TEAM, event_id: str | None = None, **kwargs) -> httpx.Response:
        body = {"token": "legacy", "team_id": team, "api_app_id": "A_EXORAG", "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()), "event": event}
        return self.post(json.dumps(body), "application/json", **kwargs)

    def mention(self, text: str, channel: str = LAB, thread_ts: str | None = None, **kwargs) -> tuple[str, httpx.Response]:
        ts = self.fake.add_message(channel, ALICE, text, thread_ts)
        event = {"type": "app_mention", "user": ALICE, "text": text, "ts": ts, "channel": channel, "event_ts": ts}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return ts, self.event(event, **kwargs)

    def direct_message(self, text: str, thread_ts: str | None = None, user: str = ALICE, **extra) -> tuple[str, httpx.Response]:
        ts = self.fake.add_message(DM, user, text, thread_ts)
        event = {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts, "channel": DM,
                 "event_ts": ts, **extra}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return ts, self.event(event)

    def command(self, text: str, channel: str = LAB, response_name: str = "cmd") -> httpx.Response:
        form = {"token": "legacy", "team_id": TEAM, "team_domain": "exorag-test", "channel_id": channel,
                "channel_name": "lab", "user_id": ALICE, "user_name": "alice", "command": "/exorag", "text": text,
                "api_app_id": "A_EXORAG", "response_url": self.fake.response_url(response_name),
                "trigger_id": uuid.uuid4().hex}
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, channel: str, message_ts: str, thread_ts: str | None) -> httpx.Response:
        container = {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False}
        if thread_ts:
            container["thread_ts"] = thread_ts
        payload = {
            "type": "block_actions", "team": {"id": TEAM, "domain": "exorag-test"}, "user": {"id": ALICE, "name": "alice"},
            "api_app_id": "A_EXORAG", "token": "legacy", "container": container, "trigger_id": uuid.uuid4().hex,
            "channel": {"id": channel, "name": "lab"}, "response_url": self.fake.response_url("click"),
            "actions": [{"type": "button", "action_id": action_id, "block_id": "exorag_actions", "value": value,
                         "action_ts": str(time.time())}],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


@pytest.fixture(scope="module")
def bot(indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    base = tmp_path_factory.mktemp("slack")
    fake = FakeSlackAPI(TOKEN).start()
    slack = SlackSettings(bot_token=TOKEN, signing_secret=SECRET, api_url=fake.api_url, app_token=None,
                          allowed_teams={TEAM}, allowed_channels={LAB, "C_NOT_MEMBER"}, allow_dms=True)
    settings = indexed_settings.model_copy(update={"feedback_db": base / "feedback.sqlite3", "slack": slack})
    app = build_app(settings, answers=AnswerStore(base / "answers.sqlite3"))
    server = make_http_server(app, "127.0.0.1", 0, SECRET)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Bot(f"http://127.0.0.1:{server.server_port}/slack/events", fake, settings)
    server.shutdown()
    server.server_close()
    fake.stop()


def update_for(fake: FakeSlackAPI, channel: str, thread_ts: str) -> tuple[Call, Call]:
    """The placeholder posted in ``thread_ts`` and the chat.update that turned it into the answer."""
    placeholder = fake.wait_for("chat.postMessage", channel=channel, thread_ts=thread_ts)[0]
    return placeholder, fake.wait_for("chat.update", channel=channel, ts=placeholder.result["ts"])[0]


def texts(message_blocks: list[dict]) -> str:
    found = []
    for block in message_blocks:
        if block["type"] == "section":
            found.append(block["text"]["text"])
        elif block["type"] == "context":
            found += [e["text"] for e in block["elements"]]
    return "\n".join(found)


def button_value(message_blocks: list[dict], action_id: str) -> str:
    buttons = [e for b in message_blocks if b["type"] == "actions" for e in b["elements"]]
    return next(button["value"] for button in buttons if button["action_id"] == action_id)


def assert_same_answer_as_the_library(update: Call, expected) -> None:
    rendered = texts(update.args["blocks"])
    assert not expected.abstained and expected.sentences
    for sentence in expected.sentences:
        assert blocks.sentence_mrkdwn(sentence.text, sentence.citation, sentence.flagged) in rendered
    for evidence in blocks.cited_evidence(expected):
        assert blocks.evidence_line(evidence) in rendered
    assert update.args["text"] == blocks.fallback_text(expected)


def quiet_thread(bot: Bot, channel: str, ts: str) -> None:
    time.sleep(QUIET_SECONDS)
    assert bot.fake.calls_to("chat.postMessage", channel=channel, thread_ts=ts) == []


@pytest.fixture(scope="module")
def answered_mention(bot: Bot) -> tuple[str, Call]:
    ts, response = bot.mention(f"<@{bot.fake.bot_user_id}> {QUESTION}")
    assert response.status_code == 200
    return ts, update_for(bot.fake, LAB, ts)[1]


def test_a_mention_is_answered_in_its_thread_with_the_librarys_cited_answer(bot, answered_mention):
    ts, update = answered_mention
    placeholder = bot.fake.calls_to("chat.postMessage", channel=LAB, thread_ts=ts)[0]
    assert placeholder.args["text"] == blocks.PLACEHOLDER
    assert placeholder.at < update.at
    assert_same_answer_as_the_library(update, answer(QUESTION, settings=bot.settings))
    assert update.args["metadata"] == {"event_type": ANSWER_EVENT, "event_payload": {"question": QUESTION}}


def test_a_direct_message_is_answered_in_its_thread(bot):
    ts, response = bot.direct_message(QUESTION)
    assert response.status_code == 200
    placeholder, update = update_for(bot.fake, DM, ts)
    assert placeholder.args["text"] == blocks.PLACEHOLDER
    assert_same_answer_as_the_library(update, answer(QUESTION, settings=bot.settings))


def test_a_follow_up_in_the_thread_is_read_with_the_earlier_question(bot):
    root, _ = bot.direct_message(QUESTION)
    first = update_for(bot.fake, DM, root)[1]
    follow_up = "And in the metastatic niche?"
    _, response = bot.direct_message(follow_up, thread_ts=root)
    assert response.status_code == 200
    placeholder = bot.fake.wait_for("chat.postMessage", channel=DM, thread_ts=root, count=2)[1]
    second = bot.fake.wait_for("chat.update", channel=DM, ts=placeholder.result["ts"])[0]
    assert second.args["metadata"]["event_payload"]["question"] == follow_up
    assert bot.fake.calls_to("conversations.replies", channel=DM, ts=root)
    expected = answer(follow_up, AnswerOptions(history=[(QUESTION, first.args["text"])]), bot.settings)
    assert expected.standalone_question and QUESTION.rstrip("?") in expected.standalone_question
    assert f"_Read as: {blocks.escape(expected.standalone_question)}_" in texts(second.args["blocks"])


def test_the_slash_command_acknowledges_at_once_and_posts_the_answer_when_ready(bot):
    question = "Which exosomal cargo promotes angiogenesis?"
    # Slack holds the placeholder back for a second: the acknowledgement must not wait for it.
    bot.fake.rate_limit_next("chat.postMessage", retry_after=1)
    started = time.monotonic()
    response = bot.command(question)
    acknowledged = time.monotonic()
    assert response.status_code == 200
    assert acknowledged - started < 1
    asked = f"<@{ALICE}> asked: {question}\n{blocks.PLACEHOLDER}"
    placeholder = bot.fake.wait_for("chat.postMessage", channel=LAB, text=asked)[0]
    assert "thread_ts" not in placeholder.args
    update = bot.fake.wait_for("chat.update", channel=LAB, ts=placeholder.result["ts"])[0]
    assert update.at > acknowledged  # the answer came after the acknowledgement
    expected = answer(question, settings=bot.settings)
    rendered = texts(update.args["blocks"])
    assert f"<@{ALICE}> asked: {question}" in rendered
    if expected.abstained:
        assert "I could not answer this from the indexed literature." in rendered
    else:
        assert_same_answer_as_the_library(update, expected)


def test_an_empty_slash_command_gets_the_usage_at_once(bot):
    response = bot.command("   ")
    assert response.status_code == 200
    assert blocks.USAGE in response.text


def test_where_the_bot_cannot_post_the_slash_command_answers_through_the_response_url(bot):
    bot.fake.fail_next("chat.postMessage", "not_in_channel")
    response = bot.command(QUESTION, channel="C_NOT_MEMBER", response_name="private")
    assert response.status_code == 200
    calls = bot.fake.wait_for("response_url", response_name="private", count=2)
    assert calls[0].args == {"text": blocks.PLACEHOLDER, "response_type": "ephemeral", "response_name": "private"}
    assert calls[1].args["response_type"] == "in_channel"
    assert_same_answer_as_the_library(calls[1], answer(QUESTION, settings=bot.settings))


def test_show_evidence_shows_the_passages_to_the_asker_only(bot, answered_mention):
    ts, update = answered_mention
    answer_id = button_value(update.args["blocks"], blocks.SHOW_EVIDENCE)
    response = bot.click(blocks.SHOW_EVIDENCE, answer_id, LAB, update.args["ts"], ts)
    assert response.status_code == 200
    shown = bot.fake.wait_for("chat.postEphemeral", channel=LAB, user=ALICE, thread_ts=ts)[0]
    passages = texts(shown.args["blocks"])
    for evidence in blocks.cited_evidence(answer(QUESTION, settings=bot.settings)):
        assert "> " + blocks.escape(" ".join(evidence.text.split())) in passages
    assert bot.fake.calls_to("chat.postMessage", channel=LAB, thread_ts=ts)[1:] == []  # nothing public


def test_feedback_buttons_write_to_the_feedback_store_of_the_ui(bot, answered_mention):
    ts, update = answered_mention
    store = FeedbackStore(default_feedback_path(bot.settings))
    before = len(store.records())
    for action in (blocks.FEEDBACK_UP, blocks.FEEDBACK_DOWN):
        assert bot.click(action, button_value(update.args["blocks"], action), LAB, update.args["ts"], ts).status_code == 200
    bot.fake.wait_for("chat.postEphemeral", channel=LAB, user=ALICE, text=blocks.THANKS, count=2)
    records = store.records()[before:]
    assert [r["rating"] for r in records] == [1, -1]
    assert {r["channel"] for r in records} == {"slack"} and {r["question"] for r in records} == {QUESTION}
    assert records[0]["answer"]["sentences"] and records[0]["answer"]["question"] == QUESTION


def test_a_button_on_an_unknown_answer_says_it_is_gone(bot):
    assert bot.click(blocks.FEEDBACK_UP, "no-such-answer", LAB, "1.000100", None).status_code == 200
    bot.fake.wait_for("chat.postEphemeral", channel=LAB, user=ALICE, text=blocks.GONE)


def test_a_retried_event_is_answered_once(bot):
    event_id = "EvRETRY000001"
    ts, first = bot.mention(f"<@{bot.fake.bot_user_id}> {QUESTION}", event_id=event_id)
    event = {"type": "app_mention", "user": ALICE, "text": f"<@{bot.fake.bot_user_id}> {QUESTION}", "ts": ts,
             "channel": LAB, "event_ts": ts}
    retry = bot.event(event, event_id=event_id, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert first.status_code == retry.status_code == 200
    update_for(bot.fake, LAB, ts)
    late_retry = bot.event(event, event_id=event_id, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"})
    assert late_retry.status_code == 200
    time.sleep(QUIET_SECONDS)
    assert len(bot.fake.calls_to("chat.postMessage", channel=LAB, thread_ts=ts)) == 1


def test_a_mention_in_a_direct_message_is_answered_once(bot):
    # Slack sends such a message twice, as a message and as a mention, each with its own event id.
    text = f"<@{bot.fake.bot_user_id}> {QUESTION}"
    ts, as_message = bot.direct_message(text)
    as_mention = bot.event({"type": "app_mention", "user": ALICE, "text": text, "ts": ts, "channel": DM, "event_ts": ts})
    assert as_message.status_code == as_mention.status_code == 200
    update_for(bot.fake, DM, ts)
    time.sleep(QUIET_SECONDS)
    assert len(bot.fake.calls_to("chat.postMessage", channel=DM, thread_ts=ts)) == 1


@pytest.mark.parametrize("tamper", ["signature", "stale timestamp"])
def test_a_bad_signature_or_a_stale_timestamp_gets_401_and_no_answer(bot, tamper):
    kwargs = {"secret": "not-the-secret"} if tamper == "signature" else {"timestamp": int(time.time()) - 10 * 60}
    ts, response = bot.mention(f"<@{bot.fake.bot_user_id}> {QUESTION}", **kwargs)
    assert response.status_code == 401
    quiet_thread(bot, LAB, ts)


def test_a_429_from_slack_is_retried_after_retry_after(bot):
    bot.fake.rate_limit_next("chat.update", retry_after=1)
    ts, response = bot.mention(f"<@{bot.fake.bot_user_id}> What do exosomes carry?")
    assert response.status_code == 200
    _, update = update_for(bot.fake, LAB, ts)
    refused = [c for c in bot.fake.refused if c.method == "chat.update" and c.args["ts"] == update.args["ts"]]
    assert len(refused) == 1
    assert update.at - refused[0].at >= 1.0
    assert update.args["blocks"] == refused[0].args["blocks"]


def test_the_bots_own_messages_and_other_bots_are_ignored(bot):
    own, response = bot.direct_message("an answer the bot wrote", user=bot.fake.bot_user_id, bot_id=bot.fake.bot_id)
    assert response.status_code == 200
    other, response = bot.direct_message("beep", user="U_OTHERBOT", bot_id="B_OTHER", subtype="bot_message")
    assert response.status_code == 200
    ts = bot.fake.add_message(LAB, "U_OTHERBOT", "<@U_BOT> hello")
    response = bot.event({"type": "app_mention", "user": "U_OTHERBOT", "bot_id": "B_OTHER", "text": f"<@U_BOT> {QUESTION}",
                          "ts": ts, "channel": LAB, "event_ts": ts})
    assert response.status_code == 200
    time.sleep(QUIET_SECONDS)
    for channel, thread in ((DM, own), (DM, other), (LAB, ts)):
        assert bot.fake.calls_to("chat.postMessage", channel=channel, thread_ts=thread) == []


def test_requests_from_outside_the_allow_lists_are_not_answered(bot):
    elsewhere, response = bot.mention(f"<@U_BOT> {QUESTION}", team="T_ELSEWHERE")
    assert response.status_code == 200
    _, response = bot.mention(f"<@U_BOT> {QUESTION}", channel="C_RANDOM")
    assert response.status_code == 200
    command = bot.command(QUESTION, channel="C_RANDOM")
    assert command.status_code == 200 and NOT_HERE in command.text
    time.sleep(QUIET_SECONDS)
    assert bot.fake.calls_to("chat.postMessage", channel=LAB, thread_ts=elsewhere) == []
    assert bot.fake.calls_to("chat.postMessage", channel="C_RANDOM") == []


def test_a_mention_without_a_question_gets_the_usage(bot):
    ts, response = bot.mention(f"<@{bot.fake.bot_user_id}>")
    assert response.status_code == 200
    assert bot.fake.wait_for("chat.postMessage", channel=LAB, thread_ts=ts)[0].args["text"] == blocks.USAGE


def test_an_internal_error_gives_one_short_message_and_logs_the_detail(bot, tmp_path: Path, caplog):
    not_an_index = tmp_path / "index"
    not_an_index.write_text("a file where the index folder should be")
    slack = SlackSettings(bot_token=TOKEN, signing_secret=SECRET, api_url=bot.fake.api_url, app_token=None)
    broken = bot.settings.model_copy(update={"index": not_an_index, "slack": slack})
    app = build_app(broken, answers=AnswerStore(tmp_path / "answers.sqlite3"),
                    feedback=FeedbackStore(tmp_path / "feedback.sqlite3"))
    server = make_http_server(app, "127.0.0.1", 0, SECRET)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        broken_bot = Bot(f"http://127.0.0.1:{server.server_port}/slack/events", bot.fake, broken)
        with caplog.at_level(logging.ERROR, logger="exorag.slack.app"):
            ts, response = broken_bot.mention(f"<@U_BOT> {QUESTION}", channel="C_BROKEN")
            assert response.status_code == 200
            _, update = update_for(bot.fake, "C_BROKEN", ts)
    finally:
        server.shutdown()
        server.server_close()
    assert update.args["text"] == blocks.ERROR_MESSAGE and "blocks" not in update.args
    errors = [r for r in caplog.records if r.name == "exorag.slack.app" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and QUESTION in errors[0].getMessage() and errors[0].exc_info is not None


def test_an_answer_slack_refuses_leaves_the_error_message_not_the_placeholder(bot, caplog):
    bot.fake.fail_next("chat.update", "invalid_blocks")
    with caplog.at_level(logging.ERROR, logger="exorag.slack.app"):
        ts, response = bot.mention(f"<@U_BOT> {QUESTION}")
        assert response.status_code == 200
        placeholder, update = update_for(bot.fake, LAB, ts)
    refused = [c for c in bot.fake.refused if c.method == "chat.update" and c.args["ts"] == placeholder.result["ts"]]
    assert len(refused) == 1 and refused[0].args["blocks"]
    assert update.args["text"] == blocks.ERROR_MESSAGE and "blocks" not in update.args
    assert any("invalid_blocks" in r.getMessage() for r in caplog.records if r.name == "exorag.slack.app")


def test_socket_mode_answers_a_mention_once_and_acknowledges_each_envelope(indexed_settings, tmp_path: Path):
    socket = FakeSocketMode().start()
    fake = FakeSlackAPI(TOKEN, app_token=APP_TOKEN, socket_url=socket.url).start()
    slack = SlackSettings(bot_token=TOKEN, app_token=APP_TOKEN, signing_secret=None, api_url=fake.api_url)
    app = build_app(indexed_settings.model_copy(update={"slack": slack}), answers=AnswerStore(tmp_path / "answers.sqlite3"),
                    feedback=FeedbackStore(tmp_path / "feedback.sqlite3"))
    handler = SocketModeHandler(app, APP_TOKEN)
    handler.connect()
    try:
        text = f"<@{fake.bot_user_id}> {QUESTION}"
        ts = fake.add_message(LAB, ALICE, text)
        body = {"team_id": TEAM, "api_app_id": "A_EXORAG", "type": "event_callback", "event_id": "EvSOCKET01",
                "event_time": int(time.time()),
                "event": {"type": "app_mention", "user": ALICE, "text": text, "ts": ts, "channel": LAB, "event_ts": ts}}
        socket.send_event(body, "envelope-1")
        assert socket.wait_for_ack("envelope-1") == {"envelope_id": "envelope-1"}
        _, update = update_for(fake, LAB, ts)
        assert_same_answer_as_the_library(update, answer(QUESTION, settings=indexed_settings))
        socket.send_event(body, "envelope-2", retry_attempt=1)
        socket.wait_for_ack("envelope-2")
        time.sleep(QUIET_SECONDS)
        assert len(fake.calls_to("chat.postMessage", channel=LAB, thread_ts=ts)) == 1
    finally:
        handler.close()
        socket.stop()
        fake.stop()


def test_commands_are_acknowledged_while_many_slow_answers_are_being_made(
        indexed_settings: Settings, tmp_path: Path) -> None:
    """Six mentions answered by a slow model at once (six seconds each) once held every one of
    Bolt's five listener threads: a slash command then went unacknowledged for 3 seconds, Slack
    reported it failed, and it was answered anyway later."""
    from fake_llm import fake_llm

    fake = FakeSlackAPI(TOKEN).start()
    slack = SlackSettings(bot_token=TOKEN, signing_secret=SECRET, api_url=fake.api_url, app_token=None,
                          allowed_teams={TEAM}, allowed_channels={LAB}, allow_dms=True)
    with fake_llm(" ".join(["Exosomes"] * 60), word_s=0.1) as llm_url:
        settings = indexed_settings.model_copy(update={
            "feedback_db": tmp_path / "feedback.sqlite3", "slack": slack, "generator": "llm",
            "llm_base_url": llm_url, "llm_model": "slow"})
        server = make_http_server(build_app(settings, answers=AnswerStore(tmp_path / "answers.sqlite3")), "127.0.0.1", 0, SECRET)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        bot = Bot(f"http://127.0.0.1:{server.server_port}/slack/events", fake, settings)
        try:
            for _ in range(6):
                assert bot.mention(f"<@{fake.bot_user_id}> {QUESTION}")[1].status_code == 200
            # Five answers under way: as many as Bolt has listener threads.
            fake.wait_for("chat.postMessage", channel=LAB, text=blocks.PLACEHOLDER, count=5)
            usage = bot.command("")
            assert usage.status_code == 200 and blocks.USAGE in usage.text
            assert bot.command(QUESTION).status_code == 200
            # Every question is answered, the command's too, once a thread is free.
            fake.wait_for("chat.update", channel=LAB, count=7)
        finally:
            server.shutdown()
            server.server_close()
            fake.stop()
