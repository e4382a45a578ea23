"""``python -m localdev``: the local OIDC issuer, moto and the STS fault layer, for humans, the
demo and ``act``; and ``python -m localdev mint-token`` for ``web-identity-token-file`` recipes.

    python -m localdev [--port N] [--sts-port N] [--moto-port N] [--env-file PATH]
                       [--request-token T] [--key-file PATH] [--no-verify] [--quiet]
    python -m localdev mint-token --out FILE [--claim k=v]... [--remove-claim k]...
                       [--audience A] [--lifetime S] [--expired] [--key-file PATH]

Both commands share the issuer's signing key through ``--key-file`` (default: a 0600 file in a
0700 directory under the system temp dir), so a minted token file passes the running STS
layer's signature check. Neither prints a token.

The env file holds only shell-safe names (source it with ``set -a; . FILE``)::

    ACTIONS_ID_TOKEN_REQUEST_URL=...     ACTIONS_ID_TOKEN_REQUEST_TOKEN=...
    LOCALDEV_STS_ENDPOINT=...  (the action's sts-endpoint input)
    LOCALDEV_ISSUER_URL=...  LOCALDEV_MOTO_URL=...  LOCALDEV_KEY_FILE=...  LOCALDEV_PID=...

It is written (atomically) once everything answers, so its existence means "ready".
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from .moto_sts import MotoServer
from .oidc_issuer import DEFAULT_AUDIENCE, DEFAULT_ISS, OidcIssuer
from .sts_faults import StsCall, StsFaultProxy


def default_key_file() -> Path:
    return Path(tempfile.gettempdir()) / f"py-aws-oidc-localdev-{os.getuid()}" / "issuer-key.pem"


def _prepare_key_dir(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """KEY=VALUE lines, written atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{k}={v}\n" for k, v in values.items())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _log_call(call: StsCall) -> None:
    outcome = call.error_code or "ok"
    print(
        f"[sts] {call.action} role={call.role_arn or '-'} "
        f"duration={call.params.get('DurationSeconds', '-')} tags={len(call.tags)} "
        f"-> {call.status} {outcome}",
        file=sys.stderr,
        flush=True,
    )


def serve(args: argparse.Namespace) -> int:
    key_file = Path(args.key_file) if args.key_file else default_key_file()
    _prepare_key_dir(key_file)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    with (
        MotoServer(port=args.moto_port) as moto,
        OidcIssuer(args.port, iss=args.iss, request_token=args.request_token,
                   key_file=key_file) as issuer,
        StsFaultProxy(moto.url, args.sts_port,
                      verify_tokens=None if args.no_verify else issuer,
                      allowed_audiences=args.allowed_audience or [DEFAULT_AUDIENCE]) as sts,
    ):
        if not args.quiet:
            sts.on_call = _log_call
        values = {
            "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.token_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": issuer.request_token,
            "LOCALDEV_STS_ENDPOINT": sts.url,
            "LOCALDEV_ISSUER_URL": issuer.url,
            "LOCALDEV_MOTO_URL": moto.url,
            "LOCALDEV_KEY_FILE": str(key_file),
            "LOCALDEV_PID": str(os.getpid()),
        }
        print("localdev is up (SIGTERM or Ctrl-C stops it).")
        print(f"  OIDC issuer   {issuer.url}  (iss {issuer.iss})")
        print(f"  STS (faults)  {sts.url}  -> moto {moto.url}"
              f"{'' if args.no_verify else '  (verifies tokens)'}")
        print("Environment for the action:")
        print(f"  ACTIONS_ID_TOKEN_REQUEST_URL={values['ACTIONS_ID_TOKEN_REQUEST_URL']}")
        print(f"  ACTIONS_ID_TOKEN_REQUEST_TOKEN={values['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}")
        print(f"  INPUT_STS-ENDPOINT={sts.url}")
        print("Workflow input:")
        print(f"  sts-endpoint: {sts.url}")
        if args.env_file:
            write_env_file(Path(args.env_file), values)
            print(f"Wrote {args.env_file}")
        sys.stdout.flush()
        while not stop.wait(0.5):
            if not moto.running:
                print("moto_server exited unexpectedly:\n" + moto.log_tail(), file=sys.stderr)
                return 1
    if args.env_file:
        Path(args.env_file).unlink(missing_ok=True)
    return 0


def _parse_claims(pairs: Sequence[str]) -> dict[str, str]:
    claims: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--claim expects key=value, got {pair!r}")
        claims[key] = value
    return claims


def mint_token(args: argparse.Namespace) -> int:
    key_file = Path(args.key_file) if args.key_file else default_key_file()
    _prepare_key_dir(key_file)
    issuer = OidcIssuer(iss=args.iss, key_file=key_file, lifetime_s=args.lifetime)
    overrides: dict[str, Any] = dict(_parse_claims(args.claim))
    for key in args.remove_claim:
        overrides[key] = None
    token = issuer.mint(args.audience, expired=args.expired, **overrides)
    claims = issuer.build_claims(args.audience, expired=args.expired, overrides=overrides)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    print(f"Wrote a token to {out} (sub={claims.get('sub')}, aud={claims.get('aud')}, "
          f"lifetime {args.lifetime}s{', already expired' if args.expired else ''}).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localdev",
        description="Local GitHub OIDC issuer + moto STS + fault layer (127.0.0.1 only).",
    )
    parser.add_argument("--port", type=int, default=0, help="issuer port (default: any free)")
    parser.add_argument("--sts-port", type=int, default=0, help="STS layer port")
    parser.add_argument("--moto-port", type=int, default=None, help="moto_server port")
    parser.add_argument("--env-file", help="write the environment lines to this file")
    parser.add_argument("--request-token", help="the bearer token (default: random)")
    parser.add_argument("--iss", default=DEFAULT_ISS, help="the tokens' iss claim")
    parser.add_argument("--key-file", help="issuer key (PEM; created if missing)")
    parser.add_argument("--no-verify", action="store_true",
                        help="do not verify web identity tokens in the STS layer")
    parser.add_argument("--allowed-audience", action="append",
                        help="audience the STS layer accepts (repeatable; default sts.amazonaws.com)")
    parser.add_argument("--quiet", action="store_true", help="do not log STS calls to stderr")
    parser.set_defaults(func=serve)

    sub = parser.add_subparsers(dest="command")
    mint = sub.add_parser("mint-token", help="write a signed JWT to a file")
    mint.add_argument("--out", required=True, help="file to write (0600)")
    mint.add_argument("--claim", action="append", default=[], metavar="K=V",
                      help="set a claim (repeatable)")
    mint.add_argument("--remove-claim", action="append", default=[], metavar="K",
                      help="leave a claim out (repeatable)")
    mint.add_argument("--audience", default=DEFAULT_AUDIENCE)
    mint.add_argument("--lifetime", type=int, default=300, help="seconds (default 300)")
    mint.add_argument("--expired", action="store_true", help="mint a token already expired")
    mint.add_argument("--iss", default=DEFAULT_ISS)
    mint.add_argument("--key-file", help="issuer key (PEM; created if missing)")
    mint.set_defaults(func=mint_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
