"""The Bolt app: mentions, direct messages, ``/exorag`` and the answer buttons, all through ``answer()``.

Every question gets a placeholder at once, which is then updated with the answer. The question is
kept in the answer message's metadata, so a follow-up in the thread finds the earlier turns with
``conversations.replies``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from exorag.chain import AnswerOptions, answer
from exorag.config import Settings
from exorag.feedback import FeedbackStore, default_feedback_path
from exorag.slack import blocks
from exorag.slack.answers import AnswerStore, default_answers_path
from exorag.slack.dedupe import SeenEvents, skip_repeated_deliveries
from exorag.slack.settings import NO_BOT_TOKEN, SlackConfigError, SlackSettings

logger = logging.getLogger(__name__)

COMMAND = "/exorag"
ANSWER_EVENT = "exorag_answer"
HISTORY_TURNS = 5
# Answers made at once; more wait their turn (two cores answer two at a time at best).
ANSWER_WORKERS = 4
NOT_HERE = "exorag is not enabled here; ask the people who run it to add this channel or workspace."
# Message subtypes that are still a person writing; the others are edits, joins, deletions.
PERSON_SUBTYPES = {None, "file_share", "thread_broadcast"}
# Slack errors that mean the bot cannot post in a conversation (answered via the response_url).
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived"}


def question_from(text: str, bot_user_id: str | None) -> str:
    """The question in a Slack message: the bot's mention removed, links and escapes made plain."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = re.sub(r"<[^>|]+\|([^>]+)>", r"\1", text)
    text = re.sub(r"<([^>]+)>", r"\1", text)
    return " ".join(unescape(text).split())


def unescape(text: str) -> str:
    """Slack's message text with its three escapes undone."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def thread_history(client: WebClient, channel: str, thread_ts: str, bot_user_id: str | None) -> list[tuple[str, str]]:
    """The (question, answer) turns the bot already answered in this thread, oldest first."""
    turns: list[tuple[str, str]] = []
    for page in client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True, limit=200):
        for message in page.get("messages", []):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") != ANSWER_EVENT or message.get("user") != bot_user_id:
                continue
            question = metadata.get("event_payload", {}).get("question", "")
            turns.append((question, unescape(message.get("text", ""))))
    return turns[-HISTORY_TURNS:]


def skip_unwanted(slack: SlackSettings) -> Callable[..., BoltResponse | None]:
    """A global middleware: acknowledge, without answering, bots' messages and requests from
    outside the allow-lists."""

    def middleware(body: dict, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        event = body.get("event") or {}
        if event.get("bot_id") or event.get("subtype") == "bot_message":
            return BoltResponse(status=200, body="")
        if not (slack.team_allowed(context.team_id) and slack.channel_allowed(context.channel_id)):
            logger.info("ignored a request from team %s, channel %s (not in the allow-lists)",
                        context.team_id, context.channel_id)
            return BoltResponse(status=200, body=NOT_HERE if body.get("command") else "")
        return next()

    return middleware


def build_app(settings: Settings, *, answers: AnswerStore | None = None, feedback: FeedbackStore | None = None) -> App:
    """The Bolt app with all its listeners, for ``settings.slack``. Checks the bot token with ``auth.test``
    (at the Web API that ``settings.slack.api_url`` names) before it returns."""
    slack = settings.slack
    if slack.bot_token is None:
        raise SlackConfigError(NO_BOT_TOKEN)
    answers = answers or AnswerStore(default_answers_path(settings))
    feedback = feedback or FeedbackStore(default_feedback_path(settings))
    client = WebClient(
        token=slack.bot_token.get_secret_value(),
        base_url=slack.api_url,
        retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=3)],
    )
    app = App(client=client, signing_secret=slack.signing_secret.get_secret_value() if slack.signing_secret else "",
              name="exorag")
    app.use(skip_unwanted(slack))
    app.use(skip_repeated_deliveries(SeenEvents()))
    # An answer takes seconds (a minute with a slow model). Bolt runs listeners on a pool of five
    # threads, which must stay free to acknowledge commands and clicks within Slack's 3 seconds:
    # answers are made on a pool of their own, and wait there when many come at once.
    answering = ThreadPoolExecutor(max_workers=ANSWER_WORKERS, thread_name_prefix="exorag-answer")

    def in_background(work: Callable[..., None], *arguments: object) -> None:
        def logged() -> None:
            try:
                work(*arguments)
            except Exception:
                logger.exception("answering in the background failed")

        answering.submit(logged)

    def post_answer(client: WebClient, channel: str, placeholder_ts: str, thread_ts: str | None, question: str,
                    history: list[tuple[str, str]], asker: str | None = None) -> None:
        """Replace the placeholder with the answer (or, on an internal error, one short message)."""
        try:
            result = answer(question, AnswerOptions(history=history), settings)
            answer_id = answers.put(result)
        except Exception:
            logger.exception("could not answer %r (channel %s, thread %s)", question, channel, thread_ts)
            say_it_failed(client, channel, placeholder_ts)
            return
        text = blocks.fallback_text(result)
        first, *more = blocks.split_messages(blocks.answer_blocks(result, answer_id, asker))
        try:
            client.chat_update(channel=channel, ts=placeholder_ts, text=text, blocks=first,
                               metadata={"event_type": ANSWER_EVENT, "event_payload": {"question": question[:2000]}})
        except SlackApiError as error:
            # Slack refused the answer (a rate limit after the retries, blocks it would not take):
            # the placeholder must not promise an answer forever.
            logger.error("could not post the answer to %r (channel %s): %s", question, channel, error)
            say_it_failed(client, channel, placeholder_ts)
            return
        for extra in more:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts or placeholder_ts, text=text, blocks=extra)

    def say_it_failed(client: WebClient, channel: str, placeholder_ts: str) -> None:
        try:
            client.chat_update(channel=channel, ts=placeholder_ts, text=blocks.ERROR_MESSAGE)
        except SlackApiError as error:
            logger.error("could not say that answering failed (channel %s): %s", channel, error)

    def reply_in_thread(event: dict, client: WebClient, context: BoltContext) -> None:
        channel, thread_ts = event["channel"], event.get("thread_ts") or event["ts"]
        question = question_from(event.get("text", ""), context.bot_user_id)
        if not question:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=blocks.USAGE)
            return
        placeholder = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=blocks.PLACEHOLDER)
        history: list[tuple[str, str]] = []
        if event.get("thread_ts"):
            try:
                history = thread_history(client, channel, thread_ts, context.bot_user_id)
            except SlackApiError as error:
                logger.warning("answering without the thread's history: conversations.replies failed: %s", error)
        post_answer(client, channel, placeholder["ts"], thread_ts, question, history)

    @app.event("app_mention")
    def on_mention(event: dict, client: WebClient, context: BoltContext) -> None:
        # A mention in a direct message comes as a message event too, with another event id: that one answers.
        if event.get("channel_type") == "im" or event.get("channel", "").startswith("D"):
            return
        in_background(reply_in_thread, event, client, context)

    @app.event("message")
    def on_message(event: dict, client: WebClient, context: BoltContext) -> None:
        # Only direct messages: in channels the bot answers when mentioned (app_mention).
        if event.get("channel_type") == "im" and event.get("subtype") in PERSON_SUBTYPES:
            in_background(reply_in_thread, event, client, context)

    @app.command(COMMAND)
    def on_command(ack: Callable, command: dict, client: WebClient, respond: Callable) -> None:
        question = question_from(command.get("text", ""), None)
        if not question:
            ack(blocks.USAGE)
            return
        ack()  # within Slack's 3 seconds; the answer follows
        in_background(answer_command, command, client, respond, question)

    def answer_command(command: dict, client: WebClient, respond: Callable, question: str) -> None:
        channel, asker = command["channel_id"], command["user_id"]
        try:
            asked = f"<@{asker}> asked: {blocks.escape(question)}\n{blocks.PLACEHOLDER}"
            placeholder = client.chat_postMessage(channel=channel, text=asked)
        except SlackApiError as error:
            if error.response.get("error") not in CANNOT_POST:
                raise
            answer_by_response_url(respond, question, asker)
            return
        post_answer(client, channel, placeholder["ts"], None, question, [], asker)

    def answer_by_response_url(respond: Callable, question: str, asker: str) -> None:
        """Where the bot is not a member (a private channel, a DM between people), answer through
        the slash command's response_url."""
        respond(text=blocks.PLACEHOLDER, response_type="ephemeral")
        try:
            result = answer(question, AnswerOptions(), settings)
            answer_id = answers.put(result)
        except Exception:
            logger.exception("could not answer %r (slash command)", question)
            respond(text=blocks.ERROR_MESSAGE, response_type="ephemeral")
            return
        for message in blocks.split_messages(blocks.answer_blocks(result, answer_id, asker)):
            respond(text=blocks.fallback_text(result), blocks=message, response_type="in_channel", replace_original=False)

    def tell_privately(body: dict, client: WebClient, respond: Callable, text: str, message: list[dict] | None = None) -> None:
        """An ephemeral message to the person who clicked, in the thread of the message they clicked."""
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        try:
            client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text, blocks=message,
                                      thread_ts=container.get("thread_ts"))
        except SlackApiError as error:
            if error.response.get("error") not in CANNOT_POST:
                raise
            respond(text=text, blocks=message, response_type="ephemeral", replace_original=False)

    @app.action(blocks.SHOW_EVIDENCE)
    def on_show_evidence(ack: Callable, body: dict, action: dict, client: WebClient, respond: Callable) -> None:
        ack()
        result = answers.get(action.get("value", ""))
        if result is None:
            tell_privately(body, client, respond, blocks.GONE)
            return
        for message in blocks.split_messages(blocks.evidence_blocks(result)):
            tell_privately(body, client, respond, f"Evidence for: {blocks.escape(result.question)}", message)

    def on_feedback(ack: Callable, body: dict, action: dict, client: WebClient, respond: Callable) -> None:
        ack()
        result = answers.get(action.get("value", ""))
        if result is None:
            tell_privately(body, client, respond, blocks.GONE)
            return
        rating = 1 if action["action_id"] == blocks.FEEDBACK_UP else -1
        feedback.add(result.question, result, rating, channel="slack")
        tell_privately(body, client, respond, blocks.THANKS)

    app.action(blocks.FEEDBACK_UP)(on_feedback)
    app.action(blocks.FEEDBACK_DOWN)(on_feedback)
    return app
