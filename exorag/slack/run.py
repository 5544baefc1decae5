"""Start the bot: Socket Mode (a websocket to Slack, no public URL) or HTTP mode (the Events API
posts to ``/slack/events``; every request is verified with the signing secret)."""

from __future__ import annotations

import logging
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

from exorag.config import Settings
from exorag.slack.app import build_app
from exorag.slack.guard import SignedRequestsOnly
from exorag.slack.settings import NO_SIGNING_SECRET, SlackConfigError, check_settings

EVENTS_PATH = "/slack/events"

logger = logging.getLogger(__name__)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread a request, so a slow request never delays Slack's 3-second acknowledgements."""

    daemon_threads = True


class LoggingRequestHandler(WSGIRequestHandler):
    """Access lines go to the ``exorag.slack.run`` logger instead of stderr."""

    # A client that announces a body and never sends it would hold a thread and a socket for good.
    timeout = 10

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


def make_http_server(app: App, host: str, port: int, signing_secret: str) -> WSGIServer:
    """A threading HTTP server for ``app`` on ``host:port``, serving Slack's requests at ``/slack/events``
    (port 0 picks a free port: read it from ``server.server_port``). Only small requests signed with
    ``signing_secret`` reach the app; SlackConfigError when the secret is empty."""
    if not signing_secret.strip():
        raise SlackConfigError(NO_SIGNING_SECRET)
    handler = SignedRequestsOnly(SlackRequestHandler(app, path=EVENTS_PATH), signing_secret)
    return make_server(host, port, handler, server_class=ThreadingWSGIServer, handler_class=LoggingRequestHandler)


def run_slack(settings: Settings, http: bool = False, host: str = "127.0.0.1", port: int = 3000) -> None:
    """Run the bot until interrupted. Raises SlackConfigError when a needed token is missing."""
    from exorag.chain import get_pipeline

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    slack = settings.slack
    check_settings(slack, http)
    logger.info("loading the index %s", settings.index)
    get_pipeline(settings)  # the model and index load now, not on the first question
    app = build_app(settings)
    if http:
        server = make_http_server(app, host, port, slack.signing_secret.get_secret_value())
        logger.info("exorag Slack bot (HTTP mode) listening on http://%s:%d%s", host, server.server_port, EVENTS_PATH)
        try:
            server.serve_forever()
        finally:
            server.server_close()
    else:
        logger.info("exorag Slack bot connecting to Slack in Socket Mode")
        SocketModeHandler(app, slack.app_token.get_secret_value()).start()
