"""`config check` lines saying how each side is reached: directly, or through which proxy.

Behind an egress proxy the first question is whether offboard uses it at all, and for which
hosts (``NO_PROXY``). Each line names the side's host and the proxy's ``host:port``, never the
proxy's credentials nor a webhook's secret path.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from offboard.adapters.proxies import ProxySettingError, proxy_environment
from offboard.ports import CheckResult
from offboard.settings import Settings


def route_checks(settings: Settings) -> list[CheckResult]:
    """One line per side offboard calls over HTTP: its host and its route. One FAIL line
    when a proxy variable is unusable (every client would be refused)."""
    try:
        environment = proxy_environment()
    except ProxySettingError as exc:
        fix = "unset the variable or point it at an http:// or https:// proxy"
        return [CheckResult("proxy", False, str(exc), fix)]
    results = []
    for side, url in _sides(settings):
        parsed = httpx.URL(url)
        origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
        route = environment.route(parsed)
        results.append(CheckResult(f"{side}.route", True, f"{origin} {route}"))
    return results


def _sides(settings: Settings) -> list[tuple[str, str]]:
    sides = [("keycloak", settings.keycloak.base_url), ("atlassian", settings.atlassian.base_url)]
    notifications = settings.notifications
    for name, url in (("slack", notifications.slack.url), ("webhook", notifications.webhook.url)):
        if isinstance(url, SecretStr):
            sides.append((f"notifications.{name}", url.get_secret_value()))
    return sides
