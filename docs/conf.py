"""Sphinx configuration for the replicate-async docs."""

from __future__ import annotations

from importlib.metadata import version as _version

project = "replicate-async"
author = "replicate-async developers"
copyright = "2026, replicate-async developers"  # noqa: A001
release = _version("replicate-async")

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_draft_*"]
html_theme = "furo"
html_title = "replicate-async"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False

# No network here for intersphinx: references into the standard library and third-party
# packages stay plain text instead of failing the nitpicky build.
nitpick_ignore_regex = [
    (r"py:.*", r"(datetime|collections|os|pathlib|typing|types|enum|ssl|httpx|anyio|attrs|cattrs)\..*"),
    (r"py:.*", r"(Path|Any|Self|Mapping|Sequence|Iterator|AsyncIterator|Callable|T|_T|F|timedelta|datetime|GenerationRequest)"),
    # Private helpers and type aliases that public docstrings mention by name.
    (
        r"py:.*",
        r"(replicate_async\._(models|paging)\.T|replicate_async\._generating\.F|FileEncoding|OrClientDefault|JobSpec|HeadersLike|Downloader"
        r"|DEFAULT_RUN_TIMEOUT|MAX_UNCLAIMED|INTERRUPT_GRACE|safe_file_name|UNKNOWN|unlimited"
        r"|BucketName|RequestHooks|replicate_async\._ratelimit\.RequestHooks|Claim|Settled|JournalRow)",
    ),
    # The package-internal layers public classes are built on (docs/architecture.md draws them):
    # the constructors of resources and sync twins name them, users never make them.
    (
        r"py:.*",
        r"(replicate_async\._downloads\.Downloader|Runner|Session|Uploader|SyncTwin|_A)",
    ),
    # Errors are documented once, under replicate_async.exceptions, and re-exported.
    (r"py:.*", r"replicate_async\.[A-Z]\w*(Error|Failed|Canceled|Timeout|Unknown)"),
    (r"py:.*", r"FileExpiredError"),
]
