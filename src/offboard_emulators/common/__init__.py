"""Infrastructure shared by the emulators: a threaded loopback server, a log of recorded
requests, rate limiting, fault injection and helpers for the control surface.

Nothing here knows about a vendor: each emulator supplies the error body and the key
identification that its API documents.
"""
