"""A generic JSON webhook, signed with HMAC-SHA256 so a receiver can trust it."""

from offboard.adapters.signed_webhook.sending import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignedWebhook,
    signature,
    verify,
)

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SignedWebhook", "signature", "verify"]
