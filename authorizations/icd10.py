"""ICD-10-CM diagnosis codes without the library's object graph in every process (issue 16).

`simple_icd_10_cm` parses the whole tabular XML into a tree of Python objects when it is
imported: about 175 MB in every web and worker process, and two seconds at start. Validation
needs only which codes exist and which are billable (leaves), so this module reads the code
list that ships in the same package (the CMS release file, not copied here) into two frozen
sets, once per process, without importing the library: about 25 MB, shared by the workers
under gunicorn's `--preload`. A code is billable when no longer code extends it (ICD-10-CM
codes nest by prefix); tests/authorizations/test_icd10.py checks every code against the
library's own `is_valid_item` and `is_leaf`.

Descriptions (the IMR packet's diagnosis list) need the library's tree: `description` loads it
on first use, in the few processes that build packets.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

_PACKAGE = "simple_icd_10_cm"


def _code_list() -> Path:
    # find_spec locates the package without running it (running it loads the tree).
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{_PACKAGE} is not installed")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    files = sorted(data.glob("code-list-*.txt"))
    if not files:
        raise ImportError(f"{_PACKAGE} ships no code list in {data}")
    return files[-1]


def _load() -> tuple[frozenset[str], frozenset[str]]:
    items: set[str] = set()
    codes: set[str] = set()
    for raw in _code_list().read_text().split():
        items.add(raw)
        if "-" not in raw and not raw.isdigit():  # blocks (A00-A09) and chapters (1..22)
            codes.add(raw)
    parents = {code[:length] for code in codes for length in range(3, len(code))}
    return frozenset(items), frozenset(codes - parents)


# Built at import: under `--preload` once in the master, shared by every worker.
_ITEMS, _BILLABLE = _load()


def _undotted(code: str) -> str | None:
    code = (code or "").strip().upper()
    if "." in code:
        if code.count(".") != 1 or code.index(".") != 3 or len(code) == 4:
            return None
        code = code.replace(".", "")
    return code


def is_valid_item(code: str) -> bool:
    """A code, category, block or chapter of ICD-10-CM (the library's `is_valid_item`)."""
    undotted = _undotted(code)
    return undotted is not None and undotted in _ITEMS


def is_leaf(code: str) -> bool:
    """A billable code: nothing more specific exists (the library's `is_leaf`)."""
    undotted = _undotted(code)
    return undotted is not None and undotted in _BILLABLE


def add_dot(code: str) -> str:
    """`M5416` → `M54.16`; a category stays as it is."""
    undotted = _undotted(code) or code
    if len(undotted) <= 3 or "-" in undotted:
        return undotted
    return f"{undotted[:3]}.{undotted[3:]}"


def description(code: str) -> str:
    """The code's title; raises ValueError for an unknown code. Loads the library's tree on
    first use (about 175 MB), so only processes that need titles pay for them."""
    library = importlib.import_module(_PACKAGE)
    return library.get_description(code)
