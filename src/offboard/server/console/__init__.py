"""The operator's console on the operations listener: what needs a human, history, acts.

Pages are rendered on the server and escaped; who is looking comes from the login layer
through :mod:`offboard.server.console_user`. See docs/howto/console.md.
"""

from offboard.server.console.backend import ConsoleBackend
from offboard.server.console.routes import console_routes

__all__ = ["ConsoleBackend", "console_routes"]
