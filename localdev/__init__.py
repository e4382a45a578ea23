"""Local stand-ins for GitHub's OIDC issuer and AWS STS, for tests, the demo and ``act``.

* :class:`~localdev.oidc_issuer.OidcIssuer`: a GitHub-like token endpoint minting RS256 JWTs.
* :class:`~localdev.moto_sts.MotoServer`: ``moto_server`` as a subprocess (the STS backend).
* :class:`~localdev.sts_faults.StsFaultProxy`: real STS validation and fault injection in front
  of moto.
* :class:`~localdev.forward_proxy.ForwardProxy`: an HTTP forward proxy that records what went
  through it.

Everything binds 127.0.0.1 only. ``python -m localdev`` starts the first three together.
"""

from __future__ import annotations

from .forward_proxy import ForwardProxy, ProxiedRequest
from .moto_sts import MotoServer
from .oidc_issuer import DEFAULT_ISS, OidcIssuer, TokenRequest
from .sts_faults import StsCall, StsFaultProxy

__all__ = [
    "DEFAULT_ISS",
    "ForwardProxy",
    "MotoServer",
    "OidcIssuer",
    "ProxiedRequest",
    "StsCall",
    "StsFaultProxy",
    "TokenRequest",
]
