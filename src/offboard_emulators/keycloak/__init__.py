"""Keycloak 26.7.3 emulator: the token endpoint and the Admin REST API subset offboard uses.

In process: `create_app(EmulatorState.from_seed_file(path))` with httpx.ASGITransport; as a
server: `python -m offboard_emulators.keycloak --port N --seed FILE`. Never imports offboard.
See docs/emulators/keycloak.md.
"""
