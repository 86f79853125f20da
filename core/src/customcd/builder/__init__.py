"""From the CI environment, plugins, configuration and flags to one validated :class:`~customcd.contract.job.Job`.

Precedence, lowest first: defaults < adapter < enrich hooks < ``customcd.toml`` (``[job]``, then
the first matching ``[[route]]``) < ``CUSTOMCD_*`` field variables < flags. Every problem is
collected and reported at once.

- :mod:`.build` -- the steps: choose the adapter, collect, enrich, apply configuration and
  overrides, validate with the model;
- :mod:`.convert` -- the lenient conversions (status in any case, digit ids, time text, durations);
- :mod:`.optional` -- optional fields from flags, ``CUSTOMCD_OPTIONAL``, configuration, plugins.
"""

from __future__ import annotations

from .build import (
    Built,
    build_from_draft,
    build_job_from_environment,
    choose_adapter,
    field_overrides,
)
from .convert import LONG_DEFAULT_DURATION
from .optional import OPTIONAL_ENV, parse_optional_args

__all__ = [
    "LONG_DEFAULT_DURATION",
    "OPTIONAL_ENV",
    "Built",
    "build_from_draft",
    "build_job_from_environment",
    "choose_adapter",
    "field_overrides",
    "parse_optional_args",
]
