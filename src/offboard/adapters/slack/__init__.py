"""Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat accept the same body)."""

from offboard.adapters.slack.incoming import SlackWebhook

__all__ = ["SlackWebhook"]
