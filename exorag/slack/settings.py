"""The bot's Slack settings, read from the environment only (tokens never come from flags or files):
the ``slack`` section of ``exorag.config.Settings``."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"


class SlackSettings(BaseSettings):
    """Tokens and allow-lists; each field names the environment variable it comes from."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    bot_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "bot_token"))
    app_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "app_token"))
    signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "signing_secret"))
    api_url: str = Field(default=SLACK_API_URL, validation_alias=AliasChoices("EXORAG_SLACK_API_URL", "api_url"))
    allowed_channels: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), validation_alias=AliasChoices("EXORAG_SLACK_ALLOWED_CHANNELS", "allowed_channels"))
    allowed_teams: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), validation_alias=AliasChoices("EXORAG_SLACK_ALLOWED_TEAMS", "allowed_teams"))
    allow_dms: bool = Field(default=True, validation_alias=AliasChoices("EXORAG_SLACK_ALLOW_DMS", "allow_dms"))

    @field_validator("allowed_channels", "allowed_teams", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_url")
    @classmethod
    def _ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"EXORAG_SLACK_API_URL: expected an http(s) URL, got {value!r}")
        return value if value.endswith("/") else value + "/"

    def channel_allowed(self, channel_id: str | None) -> bool:
        """DMs (ids starting with D) follow ``allow_dms``; other channels the channel allow-list, if any."""
        if not channel_id:
            return True
        if channel_id.startswith("D"):
            return self.allow_dms
        return not self.allowed_channels or channel_id in self.allowed_channels

    def team_allowed(self, team_id: str | None) -> bool:
        return not self.allowed_teams or team_id in self.allowed_teams


class SlackConfigError(ValueError):
    """A setting the chosen mode needs is missing; the message says which and where to find it."""


NO_BOT_TOKEN = ("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) "
                "from your Slack app's 'OAuth & Permissions' page")


NO_SIGNING_SECRET = ("SLACK_SIGNING_SECRET is not set (or empty): HTTP mode verifies every request with it "
                     "('Basic Information' > 'App Credentials' > 'Signing Secret')")


def check_settings(slack: SlackSettings, http: bool) -> None:
    """Raise SlackConfigError when a token that the mode (HTTP or Socket Mode) needs is missing."""
    if slack.bot_token is None:
        raise SlackConfigError(NO_BOT_TOKEN)
    if http and not (slack.signing_secret and slack.signing_secret.get_secret_value().strip()):
        raise SlackConfigError(NO_SIGNING_SECRET)
    if not http and slack.app_token is None:
        raise SlackConfigError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...) with the "
                               "connections:write scope ('Basic Information' > 'App-Level Tokens'), "
                               "or run `exorag slack --http` behind a public URL")
