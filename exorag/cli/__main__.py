"""``python -m exorag.cli``: the ``exorag`` command."""

from exorag.cli import main

main()
