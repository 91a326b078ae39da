"""offboard: deactivate the Atlassian Cloud accounts of people who left Keycloak."""

__version__ = "0.1.0"
