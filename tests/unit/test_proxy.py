"""proxy: http-proxy / no-proxy resolution and matching (CAC's ProxyResolver.test.ts and more).

The last part runs real sockets: a local STS stand-in and a local "proxy" (both http.server),
to prove what requests really does with the dicts we hand it while HTTP_PROXY
is set in the environment.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from py_aws_oidc.errors import InputError
from py_aws_oidc.proxy import (
    ProxySettings,
    proxy_for,
    redact_url,
    requests_proxies,
    resolve_proxy_settings,
    secret_parts,
)

PROXY = "http://proxy.corp:3128"


def settings(*no_proxy: str, url: str | None = PROXY) -> ProxySettings:
    return ProxySettings(url=url, no_proxy=tuple(no_proxy))


# --- resolve_proxy_settings -----------------------------------------------------------------


def test_no_proxy_anywhere_means_direct() -> None:
    assert resolve_proxy_settings("", "", {}) == ProxySettings(url=None, no_proxy=())


def test_input_wins_over_environment() -> None:
    env = {"HTTPS_PROXY": "http://env-https:1", "HTTP_PROXY": "http://env-http:2"}
    assert resolve_proxy_settings("http://input:3128", "", env).url == "http://input:3128"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HTTP_PROXY": "http://h:1"}, "http://h:1"),
        ({"http_proxy": "http://lower-h:1"}, "http://lower-h:1"),
        ({"HTTPS_PROXY": "http://s:2"}, "http://s:2"),
        ({"https_proxy": "http://lower-s:2"}, "http://lower-s:2"),
        ({"HTTP_PROXY": "http://h:1", "HTTPS_PROXY": "http://s:2"}, "http://s:2"),
        ({"http_proxy": "http://h:1", "https_proxy": "http://s:2"}, "http://s:2"),
        ({"HTTPS_PROXY": "  ", "HTTP_PROXY": "http://h:1"}, "http://h:1"),
    ],
)
def test_environment_https_proxy_overrides_http_proxy(env: dict[str, str], expected: str) -> None:
    assert resolve_proxy_settings("", "", env).url == expected


def test_environment_value_without_scheme_means_http() -> None:
    assert resolve_proxy_settings("", "", {"HTTPS_PROXY": "proxy.corp:3128"}).url == PROXY


def test_bad_environment_proxy_names_the_variable() -> None:
    with pytest.raises(InputError) as info:
        resolve_proxy_settings("", "", {"HTTPS_PROXY": "socks5://u:hunter2@p:1080"})
    assert "HTTPS_PROXY" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_no_proxy_input_wins_and_environment_is_fallback() -> None:
    env = {"NO_PROXY": "env.example", "no_proxy": "lower.example"}
    assert resolve_proxy_settings("", "in.example", env).no_proxy == ("in.example",)
    assert resolve_proxy_settings("", "", env).no_proxy == ("env.example",)
    assert resolve_proxy_settings("", "", {"no_proxy": "lower.example"}).no_proxy == (
        "lower.example",
    )


def test_no_proxy_entries_split_on_commas_and_whitespace_empties_dropped() -> None:
    resolved = resolve_proxy_settings("", " a.example, ,B.Example\n c.example:8443,,\t", {})
    assert resolved.no_proxy == ("a.example", "b.example", "c.example:8443")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("ftp://proxy:21", "http:// or https://"),
        ("proxy.corp:3128", "http:// or https://"),  # the input needs a scheme
        ("http://", "has no host"),
        ("http://:3128", "has no host"),
        ("http://proxy:99999", "invalid port"),
        ("http://proxy:port", "invalid port"),
        ("http://pro xy:3128", "whitespace"),
        ("http://proxy\n:3128", "whitespace"),
        ("http://[::1:3128", "not a valid URL"),
    ],
)
def test_invalid_proxy_input(value: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        resolve_proxy_settings(value, "", {})
    assert info.value.input_name == "http-proxy"
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "value",
    [
        "ftp://alice:hunter2@proxy:21",
        "http://alice:hunter2@",
        "http://alice:hunter2@:99",
        "http://alice:hunter2@[::1",
        "http://alice:hunt/er2@proxy:bad",
    ],
)
def test_invalid_proxy_input_never_echoes_the_password(value: str) -> None:
    with pytest.raises(InputError) as info:
        resolve_proxy_settings(value, "", {})
    assert "hunter2" not in str(info.value) and "hunt/er2" not in str(info.value)
    assert "***" in str(info.value)


@pytest.mark.parametrize(
    "value", ["http://proxy:3128", "https://proxy.corp", "HTTP://Proxy:8080/", "http://[::1]:3128"]
)
def test_valid_proxy_input(value: str) -> None:
    assert resolve_proxy_settings(value, "", {}).url == value


# --- redact_url / secret_parts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://proxy:3128", "http://proxy:3128"),
        ("http://alice:hunter2@proxy:3128", "http://alice:***@proxy:3128"),
        ("http://tokenonly@proxy:3128/", "http://***@proxy:3128/"),
        ("http://a:b@c@proxy:3128", "http://a:***@proxy:3128"),
        ("http://alice:hunter2@[::1", "http://***@[::1"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_secret_parts() -> None:
    assert secret_parts(settings(url=None)) == []
    assert secret_parts(settings()) == [PROXY]
    assert secret_parts(settings(url="http://alice:hunter2@p:1")) == [
        "http://alice:hunter2@p:1",
        "hunter2",
    ]
    assert secret_parts(settings(url="http://alice:p%40ss@p:1")) == [
        "http://alice:p%40ss@p:1",
        "p%40ss",
        "p@ss",
    ]
    assert secret_parts(settings(url="http://ghp_token@p:1")) == [
        "http://ghp_token@p:1",
        "ghp_token",
    ]


# --- proxy_for (CAC's ProxyResolver cases first) --------------------------------------------


def test_http_and_https_urls_get_the_proxy() -> None:
    assert proxy_for(settings(), "http://sts.amazonaws.com/") == PROXY
    assert proxy_for(settings(), "https://sts.amazonaws.com/") == PROXY


def test_no_proxy_configured_means_direct() -> None:
    assert proxy_for(settings(url=None), "https://sts.amazonaws.com") is None
    assert proxy_for(settings("other"), "https://sts.amazonaws.com") == PROXY


def test_exact_host_bypasses_that_host_only() -> None:
    s = settings("sts.us-east-1.amazonaws.com")
    assert proxy_for(s, "https://sts.us-east-1.amazonaws.com/") is None
    assert proxy_for(s, "https://sts.eu-west-1.amazonaws.com/") == PROXY


@pytest.mark.parametrize(
    "url", ["not a url", "", "://x", "ftp://host/", "http://", "http://host:99999/", "http://[::1"]
)
def test_invalid_url_means_direct(url: str) -> None:
    assert proxy_for(settings(), url) is None


def test_star_bypasses_everything() -> None:
    assert proxy_for(settings("*"), "https://anything.example:8443/") is None


def test_comma_list_bypasses_each_listed_host() -> None:
    s = resolve_proxy_settings(PROXY, "a.example,b.example", {})
    assert proxy_for(s, "https://a.example") is None
    assert proxy_for(s, "https://b.example") is None
    assert proxy_for(s, "https://c.example") == PROXY


def test_host_port_bypasses_only_that_port_default_ports_apply() -> None:
    s = settings("example.com:443")
    assert proxy_for(s, "https://example.com/") is None  # default 443
    assert proxy_for(s, "https://example.com:443/") is None
    assert proxy_for(s, "http://example.com/") == PROXY  # default 80
    assert proxy_for(s, "https://example.com:8443/") == PROXY


def test_explicit_port_urls_match_bare_host_and_host_port() -> None:
    """CAC's bug (§9.2): it compared entries with URL.host, which includes the port, so neither
    '127.0.0.1' nor '127.0.0.1:18765' bypassed the proxy for http://127.0.0.1:18765."""
    url = "http://127.0.0.1:18765/token"
    assert proxy_for(settings("127.0.0.1"), url) is None
    assert proxy_for(settings("127.0.0.1:18765"), url) is None
    assert proxy_for(settings("127.0.0.1:18766"), url) == PROXY
    assert proxy_for(settings("localhost:18765"), "http://LOCALHOST:18765") is None


def test_wildcard_and_dot_entries_match_subdomains_not_apex() -> None:
    for entry in ("*.example.com", ".example.com"):
        s = settings(entry)
        assert proxy_for(s, "https://api.example.com") is None
        assert proxy_for(s, "https://a.b.example.com:8443") is None
        assert proxy_for(s, "https://example.com") == PROXY
        assert proxy_for(s, "https://badexample.com") == PROXY


def test_plain_domain_matches_apex_and_subdomains_like_curl() -> None:
    s = settings("example.com")
    assert proxy_for(s, "https://example.com") is None
    assert proxy_for(s, "https://api.example.com") is None
    assert proxy_for(s, "https://notexample.com") == PROXY
    assert proxy_for(s, "https://example.com.evil.net") == PROXY


def test_wildcard_with_port() -> None:
    s = settings("*.example.com:8443")
    assert proxy_for(s, "https://api.example.com:8443") is None
    assert proxy_for(s, "https://api.example.com") == PROXY


def test_matching_is_case_insensitive_and_ignores_trailing_dot() -> None:
    s = resolve_proxy_settings(PROXY, "STS.Amazonaws.COM", {})
    assert proxy_for(s, "https://sts.amazonaws.com") is None
    assert proxy_for(s, "https://STS.AMAZONAWS.COM./") is None


def test_ipv6_entries() -> None:
    url = "http://[::1]:8080/"
    assert proxy_for(settings("[::1]"), url) is None
    assert proxy_for(settings("::1"), url) is None
    assert proxy_for(settings("[::1]:8080"), url) is None
    assert proxy_for(settings("[0:0::1]"), url) is None
    assert proxy_for(settings("[::1]:9090"), url) == PROXY
    assert proxy_for(settings("[::2]"), url) == PROXY


def test_cidr_entries_match_ip_literals() -> None:
    s = settings("10.0.0.0/8", "fd00::/8")
    assert proxy_for(s, "http://10.1.2.3:9000/") is None
    assert proxy_for(s, "http://[fd00::5]/") is None
    assert proxy_for(s, "http://11.1.2.3/") == PROXY
    assert proxy_for(s, "http://ten.example/") == PROXY


def test_ip_entry_does_not_suffix_match_names() -> None:
    assert proxy_for(settings("0.0.1"), "http://10.0.0.1/") == PROXY
    assert proxy_for(settings("1"), "http://10.0.0.1/") == PROXY


def test_malformed_entries_are_ignored() -> None:
    s = settings("host:notaport", "[::1", "[::1]x", "a:0", "", ".", "*:443", "bad/cidr")
    assert proxy_for(s, "http://host/") == PROXY
    assert proxy_for(s, "http://a/") == PROXY
    assert proxy_for(s, "http://[::1]/") == PROXY


def test_empty_and_space_entries_are_ignored() -> None:
    s = resolve_proxy_settings(PROXY, " , ,  ", {})
    assert s.no_proxy == ()
    assert proxy_for(s, "https://sts.amazonaws.com") == PROXY


def test_client_dicts() -> None:
    direct, proxied = settings("sts.amazonaws.com"), settings()
    url = "https://sts.amazonaws.com"
    assert requests_proxies(direct, url) == {}
    assert requests_proxies(proxied, url) == {"http": PROXY, "https": PROXY}


# --- real sockets: what the HTTP clients do with these dicts --------------------------------

STS_XML = b"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::111111111111:user/test</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>111111111111</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>
"""


@dataclass
class Server:
    url: str
    requests: list[str] = field(default_factory=list)


def _serve(record: list[str]) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            record.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(STS_XML)))
            self.end_headers()
            self.wfile.write(STS_XML)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """(STS stand-in, proxy stand-in), with the process environment pointing at the proxy."""
    sts_log: list[str] = []
    proxy_log: list[str] = []
    sts, sts_thread = _serve(sts_log)
    proxy, proxy_thread = _serve(proxy_log)
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    for variable in (
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "REQUEST_METHOD",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("HTTPS_PROXY", proxy_url)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    try:
        yield (
            Server(f"http://127.0.0.1:{sts.server_address[1]}/", sts_log),
            Server(proxy_url, proxy_log),
        )
    finally:
        for server, thread in ((sts, sts_thread), (proxy, proxy_thread)):
            server.shutdown()
            server.server_close()
            thread.join(5)


def test_requests_without_trust_env_and_empty_dict_connects_directly(
    servers: tuple[Server, Server],
) -> None:
    import requests

    sts, proxy = servers
    resolved = resolve_proxy_settings(proxy.url, "127.0.0.1", {})
    with requests.Session() as session:
        session.trust_env = False
        response = session.get(sts.url, proxies=requests_proxies(resolved, sts.url), timeout=5)
    assert response.status_code == 200
    assert len(sts.requests) == 1 and proxy.requests == []


def test_requests_with_trust_env_would_use_env_proxy(servers: tuple[Server, Server]) -> None:
    """Why the session must set trust_env = False: requests fills {} from HTTP(S)_PROXY."""
    import requests

    sts, proxy = servers
    with requests.Session() as session:
        session.get(sts.url, proxies={}, timeout=5)
    assert sts.requests == [] and len(proxy.requests) == 1


def test_requests_goes_through_the_resolved_proxy(servers: tuple[Server, Server]) -> None:
    import requests

    sts, proxy = servers
    resolved = resolve_proxy_settings(proxy.url, "", {})
    with requests.Session() as session:
        session.trust_env = False
        session.get(sts.url, proxies=requests_proxies(resolved, sts.url), timeout=5)
    assert sts.requests == [] and proxy.requests == [f"GET {sts.url}"]
