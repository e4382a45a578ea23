"""Which certificates the token request and STS trust.

* ``AWS_CA_BUNDLE``, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` or ``SSL_CERT_FILE`` (the first
  one set, in that order): that PEM bundle, everywhere;
* otherwise, run on a host (the host runtime, a pip install): the operating system's trust
  store through ``truststore`` (the keychain on macOS, the system store on Windows, OpenSSL's
  default paths on Linux), as self-hosted runners behind a TLS-intercepting proxy need;
* otherwise (the action's container): the image's certifi bundle, as in 1.1.

The system store is used for this program's own session only (an adapter whose connections
carry a ``truststore.SSLContext``), not patched into ``ssl`` for the whole process: botocore's
own requests (the SDK credential chain) keep botocore's rules (``AWS_CA_BUNDLE``, certifi).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .hostpaths import in_container_action

if TYPE_CHECKING:
    import requests
    import requests.adapters

BUNDLE_VARIABLES = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")

def ca_bundle(environ: Mapping[str, str]) -> str | None:
    """The PEM bundle the job names, if any (the first variable of ``BUNDLE_VARIABLES`` set)."""
    for name in BUNDLE_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def configure(session: requests.Session, environ: Mapping[str, str]) -> str:
    """Set ``session``'s trust; returns which one (``bundle``, ``system``, ``certifi``)."""
    bundle = ca_bundle(environ)
    if bundle is not None:
        session.verify = bundle
        return "bundle"
    if in_container_action(environ):
        return "certifi"
    adapter = system_store_adapter()
    if adapter is None:
        return "certifi"
    session.mount("https://", adapter)
    return "system"


def system_store_adapter() -> requests.adapters.HTTPAdapter | None:
    """An HTTPS adapter verifying against the operating system's store; None without
    ``truststore`` (then requests' certifi bundle)."""
    try:
        import truststore
    except ImportError:
        return None
    from requests.adapters import HTTPAdapter

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)

    class SystemStoreAdapter(HTTPAdapter):
        def build_connection_pool_key_attributes(
            self, request: Any, verify: Any, cert: Any = None
        ) -> Any:
            host: Any
            pool: Any
            host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
            if verify is True:
                pool.pop("ca_certs", None)
                pool.pop("ca_cert_dir", None)
                pool["ssl_context"] = context
            return host, pool

    return SystemStoreAdapter()
