"""The Slack bot: the cited answers of ``exorag.chain.answer`` in a team's channels and DMs."""
