"""``python -m carepolicy``: the same command as the ``carepolicy`` console script."""

from .cli import main

main()
