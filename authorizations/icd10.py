"""ICD-10-CM diagnosis codes without the library's object graph in every process (issue 16).

`simple_icd_10_cm` parses the whole tabular XML into a tree of Python objects when it is
imported: about 175 MB in every web and worker process, and two seconds at start. Validation
needs only which codes exist and which are billable (leaves), so this module reads the code
list that ships in the same package (the CMS release file, not copied here), once per process,
without importing the library, into two sorted fixed-width strings searched by bisection
(`_CodeTable`): under 1 MB, where frozen sets of the same 98,000 codes held 20 MB of Python
objects in every worker. A code is billable when no longer code extends it (ICD-10-CM
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


class _CodeTable:
    """A set of short codes as one string of sorted, space-padded records of `WIDTH`
    characters: one object of about 7 bytes a code instead of a str and a hash slot each.
    Membership is a bisection over the records (17 comparisons for 98,000 codes)."""

    WIDTH = 7  # the longest ICD-10-CM item: a 7-character code or a block such as A00-A09

    def __init__(self, codes: list[str]) -> None:
        """`codes`: sorted, each at most WIDTH characters."""
        self._table = "".join(code.ljust(self.WIDTH) for code in codes)
        self._count = len(codes)

    def __len__(self) -> int:
        return self._count

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, str) or not code or len(code) > self.WIDTH:
            return False
        wanted, table, width = code.ljust(self.WIDTH), self._table, self.WIDTH
        low, high = 0, self._count
        while low < high:
            middle = (low + high) // 2
            found = table[middle * width : (middle + 1) * width]
            if found == wanted:
                return True
            if found < wanted:
                low = middle + 1
            else:
                high = middle
        return False


def _load() -> tuple[_CodeTable, _CodeTable]:
    items = sorted(set(_code_list().read_text().split()))
    if any(len(item) > _CodeTable.WIDTH for item in items):
        raise ValueError(f"ICD-10-CM items are at most {_CodeTable.WIDTH} characters")
    # Blocks (A00-A09) and chapters (1..22) are items, not codes.
    codes = [item for item in items if "-" not in item and not item.isdigit()]
    # A code is billable when no longer code extends it: sorted, every extension of a code
    # follows it at once, so looking at the next code is enough (no set of all prefixes).
    billable = [
        code
        for code, following in zip(codes, [*codes[1:], ""], strict=True)
        if not following.startswith(code)
    ]
    # Padding with spaces keeps the order: a space sorts before every letter, digit and "-".
    return _CodeTable(items), _CodeTable(billable)


# Built at import (the lists above are freed once the tables are built); under `--preload`
# once in the master, shared by every worker.
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
