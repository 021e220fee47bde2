"""``python -m chaoslab`` and the ``chaoslab`` command.

The command's entry point lives here, not in :mod:`chaoslab.cli`, so that a Ctrl-C while
the CLI's libraries load (a tenth of a second or more) ends quietly with 130, as one
later does, instead of with a traceback.
"""

import sys


def main() -> None:
    try:
        from chaoslab.cli import main as cli_main
    except KeyboardInterrupt:
        sys.exit(130)
    cli_main()


if __name__ == "__main__":
    main()
