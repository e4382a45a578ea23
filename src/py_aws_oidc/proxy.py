"""``http-proxy`` / ``no-proxy``: one resolution for the OIDC token request and for STS.

CAC builds a proxy agent for the STS client only (the token request follows
``@actions/http-client``'s own environment rules) and compares ``no-proxy`` entries with
``URL.host``, which includes the port, so ``127.0.0.1`` and ``127.0.0.1:18765`` never bypass
the proxy for ``http://127.0.0.1:18765``. Here both requests use :func:`proxy_for`, and:

* the proxy is the ``http-proxy`` input, else ``HTTPS_PROXY`` / ``https_proxy``, else
  ``HTTP_PROXY`` / ``http_proxy`` (as in CAC, the HTTPS variable wins; both of our requests are
  HTTPS in production). An environment value without a scheme (``proxy:3128``) means
  ``http://proxy:3128``, as for curl and requests; the input must be an http(s) URL.
* the bypass list is the ``no-proxy`` input, else ``NO_PROXY`` / ``no_proxy``; entries are
  separated by commas and/or whitespace. An entry matches the request's host:

  - ``*``: every host;
  - ``host`` (name, IPv4, ``[IPv6]`` or bare IPv6): that host on **any port**; a name also
    matches its subdomains (``example.com`` bypasses ``api.example.com``), as in curl, Go and
    Python's urllib;
  - ``host:port`` / ``[IPv6]:port``: that host on that port only. A URL without a port has its
    scheme's default (80 for http, 443 for https);
  - ``.example.com`` or ``*.example.com``: subdomains only, **not** ``example.com`` itself (as in
    CAC; curl would also bypass the apex for ``.example.com``);
  - ``10.0.0.0/8``, ``fd00::/8``: any IP address literal in that network.

  Names compare case-insensitively, a trailing dot is ignored, IP addresses compare by value
  (``[0:0::1]`` is ``::1``). Nothing is bypassed implicitly (not even ``localhost``).

The HTTP client must not apply its own environment rules on top: both requests go through one
``requests.Session`` whose ``trust_env`` is False, with :func:`requests_proxies`, where ``{}``
means "direct".
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import SplitResult, unquote, urlsplit

from .errors import InputError

__all__ = [
    "ProxySettings",
    "proxy_for",
    "redact_url",
    "requests_proxies",
    "resolve_proxy_settings",
    "secret_parts",
]

_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SEPARATORS = re.compile(r"[,\s]+")
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_PROXY_ENV = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
_NO_PROXY_ENV = ("NO_PROXY", "no_proxy")
_IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ProxySettings:
    """The proxy URL (``None``: connect directly) and the lower-cased bypass entries."""

    url: str | None
    no_proxy: tuple[str, ...] = ()


# --- resolution -----------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """``url`` with the userinfo's password (or a lone user name) replaced by ``***``.

    Works on malformed URLs too: when the URL cannot be parsed, everything between ``://``
    and the last ``@`` is replaced.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None and parts.netloc and "@" in parts.netloc:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        shown = f"{user}:***" if colon else "***"
        return parts._replace(netloc=f"{shown}@{hostport}").geturl()
    at = url.rfind("@")
    if at < 0:
        return url
    start = url.find("://")
    start = start + 3 if 0 <= start < at else 0
    return f"{url[:start]}***{url[at:]}"


def _problem(raw: str) -> str | None:
    """Why ``raw`` is not a usable proxy URL, or None."""
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        # Checked on the raw text: urlsplit silently drops tabs and newlines.
        return "contains whitespace or control characters"
    parts = _split(raw)
    if parts is None:
        return "is not a valid URL"
    if parts.scheme.lower() not in _SCHEMES:
        return "must be an http:// or https:// URL"
    try:
        _ = parts.port  # raises ValueError for a port that is not 0..65535
    except ValueError:
        return "has an invalid port"
    if not parts.hostname:
        return "has no host"
    return None


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


def _proxy_from_env(environ: Mapping[str, str]) -> tuple[str, str] | None:
    for variable in _PROXY_ENV:
        value = environ.get(variable, "").strip()
        if value:
            return variable, value
    return None


def _entries(raw: str) -> tuple[str, ...]:
    return tuple(entry.lower() for entry in _SEPARATORS.split(raw) if entry)


def resolve_proxy_settings(
    http_proxy_input: str, no_proxy_input: str, environ: Mapping[str, str]
) -> ProxySettings:
    """The proxy for this run: the inputs win over the environment (see the module doc).

    Raises :class:`InputError` (``http-proxy``) for a proxy that is not an http(s) URL with a
    host; the message shows the URL with its password replaced by ``***``.
    """
    url: str | None = None
    raw = http_proxy_input.strip()
    if raw:
        problem = _problem(raw)
        if problem is not None:
            raise InputError(
                "http-proxy",
                f"{redact_url(raw)!r} {problem}.",
                remedy="Give the proxy as http://host:port (or https://, optionally with "
                "user:password@).",
            )
        url = raw
    else:
        found = _proxy_from_env(environ)
        if found is not None:
            variable, value = found
            candidate = value if _HAS_SCHEME.match(value) else f"http://{value}"
            problem = _problem(candidate)
            if problem is not None:
                raise InputError(
                    "http-proxy",
                    f"it is empty, and the {variable} environment variable "
                    f"({redact_url(value)!r}) {problem}.",
                    remedy=f"Fix {variable}, or set the 'http-proxy' input, which takes "
                    "precedence over it.",
                )
            url = candidate

    no_proxy_raw = no_proxy_input.strip()
    if not no_proxy_raw:
        for variable in _NO_PROXY_ENV:
            no_proxy_raw = environ.get(variable, "").strip()
            if no_proxy_raw:
                break
    return ProxySettings(url=url, no_proxy=_entries(no_proxy_raw))


# --- matching -------------------------------------------------------------------------------


def _ip(text: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _split_entry(entry: str) -> tuple[str, int | None] | None:
    """``(host, port or None)`` for a bypass entry, or None when it is malformed."""
    host, port = entry, ""
    if entry.startswith("["):
        close = entry.find("]")
        if close < 0:
            return None
        host, rest = entry[1:close], entry[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                return None
            port = rest[1:]
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    # More than one ':' without brackets: a bare IPv6 address, no port.
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            return None
        return host.rstrip("."), int(port)
    return host.rstrip("."), None


def _matches(entry: str, host: str, host_ip: _IPAddress | None, port: int) -> bool:
    if entry == "*":
        return True
    if "/" in entry:
        if host_ip is None:
            return False
        try:
            return host_ip in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    parsed = _split_entry(entry)
    if parsed is None:
        return False
    entry_host, entry_port = parsed
    if entry_port is not None and entry_port != port:
        return False
    if entry_host.startswith("*."):
        entry_host = entry_host[1:]
    if entry_host.startswith("."):
        return host.endswith(entry_host) and len(host) > len(entry_host)
    if not entry_host:
        return False
    entry_ip = _ip(entry_host)
    if entry_ip is not None or host_ip is not None:
        return entry_ip is not None and entry_ip == host_ip
    return host == entry_host or host.endswith("." + entry_host)


def proxy_for(settings: ProxySettings, url: str) -> str | None:
    """The proxy URL to use for ``url``, or None to connect directly.

    None as well when no proxy is configured, when a ``no-proxy`` entry matches, or when ``url``
    is not a valid http(s) URL.
    """
    if settings.url is None:
        return None
    parts = _split(url)
    if parts is None:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    host = parts.hostname.lower().rstrip(".")
    host_ip = _ip(host)
    if any(_matches(entry, host, host_ip, port) for entry in settings.no_proxy):
        return None
    return settings.url


def requests_proxies(settings: ProxySettings, url: str) -> dict[str, str]:
    """``proxies=`` for requests (Session.trust_env must be False): ``{}`` means direct."""
    proxy = proxy_for(settings, url)
    return {} if proxy is None else {"http": proxy, "https": proxy}


def secret_parts(settings: ProxySettings) -> list[str]:
    """Values to mask: the proxy URL, and its password (or lone user name) in both the
    percent-encoded form it has in the URL and the decoded form sent to the proxy."""
    if settings.url is None:
        return []
    parts: list[str] = [settings.url]
    split = _split(settings.url)
    if split is None or "@" not in split.netloc:
        return parts
    userinfo = split.netloc.rpartition("@")[0]
    user, colon, password = userinfo.partition(":")
    secret = password if colon else user
    for value in (secret, unquote(secret)):
        if value and value not in parts:
            parts.append(value)
    return parts
