"""``python -m localdev``: see :mod:`localdev.serve`."""

from __future__ import annotations

from .serve import main

raise SystemExit(main())
