"""A line for probes that run offboard in a fresh interpreter and look at it afterwards.

offboard ends with ``os._exit`` (``offboard.cli.exits``), so a probe's code after the run
would never run: this makes it leave the ordinary way, as it does under a tracer."""

ORDINARY_EXIT = "import offboard.cli.exits\noffboard.cli.exits._watched = lambda: True\n"
