"""Emulators of the Keycloak and Atlassian admin APIs, for trying and testing offboard.

They follow the vendors' published documents and never import ``offboard``, so that an
adapter bug cannot be mirrored by the emulator and go unnoticed.
"""
