"""keycloak."""
