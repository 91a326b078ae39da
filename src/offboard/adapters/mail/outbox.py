"""A :class:`offboard.ports.Notifier` that writes each message as an ``.eml`` file.

For dry runs, demos and sites that hand mail to another system by folder: nothing is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from offboard.adapters.mail.smtp import build_email
from offboard.ports import Message


class OutboxNotifier:
    """Writes ``<folder>/<n>-<digest>.eml``; returns the file's path."""

    def __init__(self, folder: Path, sender: str = "offboard@localhost") -> None:
        self.folder = folder
        self.sender = sender

    async def send(self, message: Message) -> str:
        return await asyncio.to_thread(self._write, message)

    def _write(self, message: Message) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = bytes(build_email(message, self.sender))
        number = sum(1 for _ in self.folder.glob("*.eml")) + 1
        path = self.folder / f"{number:05d}-{hashlib.sha256(data).hexdigest()[:12]}.eml"
        path.write_bytes(data)
        return f"written to {path}"

    def messages(self) -> list[Path]:
        """The files written so far, in order."""
        return sorted(self.folder.glob("*.eml"))
