"""`python -m offboard` runs the command line."""

from offboard.cli.main import main

main()
