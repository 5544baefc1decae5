"""exorag for other programs: the REST API and OpenAI-compatible endpoint (``exorag api``) and the
MCP server (``exorag mcp``), all thin views over ``exorag.api.operations``."""
