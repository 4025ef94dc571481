"""Sphinx configuration for aiologic's documentation."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _dist_version

project = "aiologic"
author = "aiologic developers"
copyright = "aiologic developers"

try:
    release = _dist_version("aiologic")
except PackageNotFoundError:  # building from a tree where aiologic is not installed
    release = "0.0.0"
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]

# No mappings on purpose: the docs must build offline.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

autodoc_member_order = "bysource"
autodoc_typehints = "signature"

nitpicky = False

templates_path: list[str] = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

html_theme = "alabaster"
html_static_path = ["_static"]
html_css_files = ["benchmarks.css"]  # the Performance page's wide table
html_title = f"aiologic {release}"
