"""atlassian_scim."""
