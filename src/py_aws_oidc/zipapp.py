"""The host runtime's zip application, ``host/dist/py-aws-oidc.pyz`` (``scripts/build_host.py``).

The zip holds what Python imports (this package and its pure-Python dependencies, stored
uncompressed); the directory beside it, ``py-aws-oidc.data/``, holds what is read from the file
system, which no code can read from inside a zip: botocore's data files (``botocore/data/``: the
endpoints and the models of the clients of the SDK credential chain: STS for ``role_arn``
profiles and web identity token files, SSO, sign-in) and certifi's ``cacert.pem``. Both come from
the same hash-pinned wheels (``requirements/host.txt``) and are committed together.

:func:`main` (the zip's ``__main__``) points botocore and certifi at that directory, then runs the
command line as the console script does. The refresh bundle copies its ``lib/`` from
:func:`entries` when the step runs from the zip.
"""

from __future__ import annotations

import os
import sys
import zipimport
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path

DATA_SUFFIX = ".data"
BOTOCORE_DATA = "botocore/data"
CACERT = "certifi/cacert.pem"


def archive() -> Path | None:
    """The zip this package runs from, or None (installed, or the image)."""
    loader = getattr(sys.modules[__package__ or "py_aws_oidc"].__spec__, "loader", None)
    if isinstance(loader, zipimport.zipimporter):
        return Path(loader.archive)
    return None


def data_dir(zip_path: Path) -> Path:
    return zip_path.with_suffix(DATA_SUFFIX)


def entries(zip_path: Path, keep: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    """(``/``-separated path, content) of each file of the zip and of its data directory whose
    path ``keep`` accepts (only those are read)."""
    import zipfile

    with zipfile.ZipFile(zip_path) as bundle:
        for info in bundle.infolist():
            if not info.is_dir() and keep(info.filename):
                yield info.filename, bundle.read(info)
    data = data_dir(zip_path)
    for root, dirs, files in os.walk(data):
        dirs.sort()
        for name in sorted(files):
            path = Path(root, name)
            relative = path.relative_to(data).as_posix()
            if keep(relative):
                yield relative, path.read_bytes()


def prepare(zip_path: Path, environ: MutableMapping[str, str]) -> None:
    """Point botocore (``AWS_DATA_PATH``, after the job's own) and certifi at the data
    directory. Nothing is imported but certifi, which requests imports on every path anyway."""
    data = data_dir(zip_path)
    given = environ.get("AWS_DATA_PATH", "")
    environ["AWS_DATA_PATH"] = os.pathsep.join(
        p for p in (given, str(data / BOTOCORE_DATA)) if p
    )
    import certifi
    import certifi.core

    bundle = str(data / CACERT)

    def where() -> str:
        return bundle

    for module in (certifi, certifi.core):
        setattr(module, "where", where)  # noqa: B010 (a module function, replaced)


def main() -> None:
    """``python -I -S -X utf8 py-aws-oidc.pyz ARGS``: ``py-aws-oidc ARGS``."""
    zip_path = archive()
    if zip_path is not None:
        prepare(zip_path, os.environ)
    from .cli import console_main

    console_main()
