"""The few pages the login itself shows: refusals, logout, and the console not configured."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

NOT_CONFIGURED = (
    "The operator's console is served only behind a login through your Keycloak, and none "
    "is configured. Set the [console] section (issuer, client_id, client_secret, "
    "session_secret, public_url): see docs/howto/console-login.md. Until then this listener "
    "answers only /healthz, /readyz, /leaderz and /metrics."
)


def message_page(
    title: str, message: str, extra_html: str = "", *, status: int = 200
) -> HTMLResponse:
    """A small page readable on a phone: a title, a sentence, and maybe a form or link."""
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)} · offboard</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.5rem 1rem}</style>"
        f"</head><body><h1>{escape(title)}</h1><p>{escape(message)}</p>{extra_html}</body></html>"
    )
    return HTMLResponse(body, status_code=status)
