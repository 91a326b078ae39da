"""Which proxy a URL goes through, from the standard variables, as curl and httpx read them:
the scheme's own variable or ``all_proxy``, lower case first, ``no_proxy`` exceptions, and
loopback always direct. Pure: the environment is given, nothing is sent."""

from __future__ import annotations

import httpx
import pytest

from offboard.adapters.proxies import (
    ProxyEnvironment,
    ProxyRouting,
    ProxySettingError,
    proxy_environment,
)

CORP = "http://proxy.corp:3128"


def via(environment: ProxyEnvironment, url: str) -> str | None:
    proxy = environment.route(httpx.URL(url)).proxy
    return None if proxy is None else proxy.shown


def test_no_variable_means_no_proxy_at_all() -> None:
    environment = proxy_environment({"PATH": "/usr/bin"})
    assert not environment
    assert via(environment, "https://api.atlassian.com/admin") is None


def test_each_scheme_has_its_own_variable_and_all_proxy_is_the_fallback() -> None:
    environment = proxy_environment(
        {"HTTPS_PROXY": CORP, "http_proxy": "http://plain.corp:8080", "ALL_PROXY": "http://all:1"}
    )
    assert via(environment, "https://api.atlassian.com/") == "proxy.corp:3128"
    assert via(environment, "http://intranet.example/") == "plain.corp:8080"
    only_https = proxy_environment({"HTTPS_PROXY": CORP})
    assert via(only_https, "http://intranet.example/") is None
    fallback = proxy_environment({"all_proxy": "http://all.corp:9000", "HTTP_PROXY": CORP})
    assert via(fallback, "https://api.atlassian.com/") == "all.corp:9000"
    assert via(fallback, "http://intranet.example/") == "proxy.corp:3128"


def test_lower_case_wins_and_an_empty_lower_case_one_unsets() -> None:
    both = {"https_proxy": "http://lower.corp:1", "HTTPS_PROXY": "http://upper.corp:2"}
    assert via(proxy_environment(both), "https://a.example/") == "lower.corp:1"
    unset = {"https_proxy": "", "HTTPS_PROXY": CORP}
    assert not proxy_environment(unset)
    route = proxy_environment({"https_proxy": CORP}).route(httpx.URL("https://a.example/"))
    assert str(route) == "via proxy proxy.corp:3128 (from https_proxy)"


def test_a_proxy_without_scheme_or_port_gets_curl_s_defaults() -> None:
    assert via(proxy_environment({"HTTPS_PROXY": "proxy.corp:3128"}), "https://a.b/") == (
        "proxy.corp:3128"
    )
    assert via(proxy_environment({"HTTPS_PROXY": "http://proxy.corp"}), "https://a.b/") == (
        "proxy.corp:80"
    )
    assert via(proxy_environment({"HTTPS_PROXY": "https://proxy.corp"}), "https://a.b/") == (
        "proxy.corp:443"
    )


@pytest.mark.parametrize(
    ("rules", "url", "direct"),
    [
        ("*", "https://api.atlassian.com/", True),
        ("example.com", "https://example.com/", True),
        ("example.com", "https://sso.example.com/", True),
        (".example.com", "https://example.com/", True),
        (".example.com", "https://deep.sso.example.com/", True),
        ("example.com", "https://notexample.com/", False),
        ("example.com", "https://example.com.evil.test/", False),
        (" .Corp.Example , keycloak.internal ", "https://KEYCLOAK.internal/realms", True),
        (".corp.example,keycloak.internal", "https://api.atlassian.com/", False),
        ("keycloak.internal:8443", "https://keycloak.internal:8443/", True),
        ("keycloak.internal:8443", "https://keycloak.internal/", False),
        ("api.atlassian.com:443", "https://api.atlassian.com/admin", True),
        ("10.0.0.0/8", "https://10.20.30.40/", True),
        ("10.0.0.0/8", "https://11.0.0.1/", False),
        ("10.0.0.0/8", "https://ten.example/", False),
        ("192.168.1.7", "https://192.168.1.7:8443/", True),
        ("192.168.1.7:8443", "https://192.168.1.7/", False),
        ("fd00::/8", "https://[fd00::5]/", True),
        ("[fd00::5]:443", "https://[fd00::5]/", True),
        ("*.example.com", "https://sso.example.com/", True),
        ("", "https://example.com/", False),
        (",,", "https://example.com/", False),
    ],
)
def test_no_proxy_rules(rules: str, url: str, direct: bool) -> None:
    environment = proxy_environment({"HTTPS_PROXY": CORP, "NO_PROXY": rules})
    assert (via(environment, url) is None) is direct


def test_lower_case_no_proxy_wins() -> None:
    environment = proxy_environment(
        {"HTTPS_PROXY": CORP, "no_proxy": "a.example", "NO_PROXY": "b.example"}
    )
    assert via(environment, "https://a.example/") is None
    assert via(environment, "https://b.example/") == "proxy.corp:3128"


@pytest.mark.parametrize(
    "url",
    ["http://localhost:8080/", "https://LOCALHOST./x", "http://127.0.0.1:9/", "http://127.8.9.1/",
     "https://[::1]:8443/"],
)  # fmt: skip
def test_loopback_is_never_proxied(url: str) -> None:
    environment = proxy_environment({"HTTPS_PROXY": CORP, "HTTP_PROXY": CORP})
    route = environment.route(httpx.URL(url))
    assert route.proxy is None
    assert str(route) == "direct (loopback is never proxied)"


def test_no_proxy_star_sends_everything_directly() -> None:
    environment = proxy_environment({"HTTPS_PROXY": CORP, "NO_PROXY": "*"})
    assert not environment  # the pool needs no routing at all
    assert str(environment.route(httpx.URL("https://a.example/"))) == "direct (no_proxy is *)"


@pytest.mark.parametrize("scheme", ["socks5", "socks5h", "socks4", "ftp"])
def test_other_proxy_schemes_are_refused_naming_the_variable_not_its_value(scheme: str) -> None:
    value = f"{scheme}://user:hunter2-secret@proxy.corp:1080"
    with pytest.raises(ProxySettingError) as refused:
        proxy_environment({"ALL_PROXY": value})
    message = str(refused.value)
    assert "ALL_PROXY" in message
    assert f"{scheme}://" in message
    assert "hunter2" not in message
    assert "user" not in message


def test_a_proxy_url_without_host_is_refused() -> None:
    with pytest.raises(ProxySettingError, match="https_proxy names no proxy host"):
        proxy_environment({"https_proxy": "http://:3128"})


def test_credentials_never_show_in_reprs_or_routes() -> None:
    environment = proxy_environment({"HTTPS_PROXY": "http://svc:hunter2-secret@proxy.corp:3128"})
    route = environment.route(httpx.URL("https://api.atlassian.com/"))
    assert route.proxy is not None
    for shown in (repr(environment), repr(route), str(route), repr(route.proxy)):
        assert "hunter2" not in shown
        assert "svc" not in shown
    assert route.proxy.shown == "proxy.corp:3128"


async def test_the_routing_transport_sends_each_request_its_own_way() -> None:
    environment = proxy_environment({"HTTPS_PROXY": CORP, "NO_PROXY": ".corp.example"})
    seen: list[tuple[str, str]] = []

    def answering(way: str) -> httpx.MockTransport:
        return httpx.MockTransport(lambda r: seen.append((way, r.url.host)) or httpx.Response(200))

    routing = ProxyRouting(answering("direct"), environment, lambda proxy: answering("proxy"))
    async with httpx.AsyncClient(transport=routing) as client:
        for n in range(3):
            await client.get(f"https://h{n}.corp.example/")
            await client.get(f"https://h{n}.example/x?{n}")
        await client.get("https://h1.corp.example:8443/")
    assert seen == [
        *[pair for n in range(3) for pair in (("direct", f"h{n}.corp.example"),
                                              ("proxy", f"h{n}.example"))],
        ("direct", "h1.corp.example"),
    ]  # fmt: skip
