"""``python -m wxai.cli``."""

from wxai.cli.app import main

main()
