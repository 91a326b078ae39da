"""The `offboard` command line (filled by the CLI work)."""


def main() -> None:
    raise SystemExit("offboard: the command line is not built yet")
