"""customcd-git: fill ``commit_sha`` and ``repo_name`` from the local git checkout.

An enricher plugin (it adds no CI adapter): when neither the CI adapter nor the user's flags gave
a commit or a repository name, it asks ``git`` in the working copy. See
:mod:`customcd_git.plugin` for the rules and :mod:`customcd_git.checkout` for how git is run.
"""

from __future__ import annotations

__version__ = "0.1.0"
