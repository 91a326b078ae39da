"""atlassian."""
