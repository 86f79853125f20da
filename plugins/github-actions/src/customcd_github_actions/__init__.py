"""customcd-github-actions: report GitHub Actions jobs to Allstacks Custom CD.

This distribution is also the worked example for plugin authors: it uses only the public
``customcd`` API. Read the modules in this order:

- :mod:`customcd_github_actions.plugin`: the entry point; one hook that returns the adapter.
- :mod:`customcd_github_actions.adapter`: detection, the environment -> draft mapping, the
  status map, demo samples and log annotations.
- :mod:`customcd_github_actions.rest`: the one REST call (the run's start time), with httpx
  imported only when it is made.
"""

from __future__ import annotations

__version__ = "0.1.0"
