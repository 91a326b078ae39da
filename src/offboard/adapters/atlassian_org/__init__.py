"""atlassian_org."""
