"""Entry point for ``python -m offboard_emulators.atlassian``."""

from offboard_emulators.atlassian.cli import main

if __name__ == "__main__":
    main()
