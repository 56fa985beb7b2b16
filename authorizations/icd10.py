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

Descriptions (the IMR packet's diagnosis list, the provider's look-up and request pages) come
from a compact file built once from the library (`python -m authorizations.icd10 PATH`, in a
separate process, so no web or worker process ever holds the tree): one line per item,
`code<TAB>billable<TAB>title`, sorted by code, about 8 MB under the var directory. Processes
map it read-only (the pages are the kernel's page cache, shared by every worker, not private
memory) and keep only an array of line offsets (about 400 KB) to bisect codes.
"""

from __future__ import annotations

import importlib
import importlib.util
import mmap
import os
import re
import subprocess
import sys
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

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

    def __iter__(self) -> Iterator[str]:
        """The codes in sorted order (the description file is written in this order)."""
        table, width = self._table, self.WIDTH
        for index in range(self._count):
            yield table[index * width : (index + 1) * width].rstrip()

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
    """The code's title (the library's `get_description`); raises ValueError for an unknown
    code."""
    undotted = _undotted(code)
    found = _titles().get(undotted) if undotted else None
    if found is None:
        raise ValueError(f"{code!r} is not an ICD-10-CM code")
    return found.title


@dataclass(frozen=True)
class Diagnosis:
    code: str  # dotted, e.g. M54.16
    title: str
    billable: bool


def describe(code: str) -> Diagnosis | None:
    """The dotted code and its title, or None for what is not ICD-10-CM."""
    undotted = _undotted(code)
    return _titles().get(undotted) if undotted else None


_CODE_PREFIX_RE = re.compile(r"^[A-Z][0-9][0-9A-Z]?\.?[0-9A-Z]{0,4}$")


def search(query: str, limit: int = 20) -> list[Diagnosis]:
    """Billable codes for a type-ahead: by code prefix ("M54.1", "m541") or by every word
    of the title ("lumbar radiculopathy"), codes in order. At most `limit`."""
    query = " ".join((query or "").split())[:80]
    if len(query) < 2:
        return []
    titles = _titles()
    if _CODE_PREFIX_RE.match(query.upper()):
        return titles.with_prefix(query.upper().replace(".", ""), limit)
    return titles.with_words(query.lower().split(), limit)


class _Titles:
    """The description file, mapped read-only, with the offset of each line."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        offsets = array("I")
        position = 0
        size = len(self._map)
        while position < size:
            offsets.append(position)
            position = self._map.find(b"\n", position) + 1
            if position == 0:
                break
        self._offsets = offsets

    def _line(self, index: int) -> Diagnosis:
        start = self._offsets[index]
        end = self._map.find(b"\n", start)
        code, billable, title = self._map[start:end].decode().split("\t", 2)
        return Diagnosis(code=add_dot(code), title=title, billable=billable == "1")

    def _code_at(self, index: int) -> bytes:
        start = self._offsets[index]
        return self._map[start : self._map.find(b"\t", start)]

    def _first_at_or_after(self, undotted: str) -> int:
        key = undotted.encode()
        return bisect_left(range(len(self._offsets)), key, key=self._code_at)

    def get(self, undotted: str) -> Diagnosis | None:
        index = self._first_at_or_after(undotted)
        if index < len(self._offsets) and self._code_at(index) == undotted.encode():
            return self._line(index)
        return None

    def with_prefix(self, prefix: str, limit: int) -> list[Diagnosis]:
        found: list[Diagnosis] = []
        key = prefix.encode()
        index = self._first_at_or_after(prefix)
        while index < len(self._offsets) and len(found) < limit:
            if not self._code_at(index).startswith(key):
                break
            item = self._line(index)
            if item.billable:
                found.append(item)
            index += 1
        return found

    def with_words(self, words: list[str], limit: int) -> list[Diagnosis]:
        first = re.compile(re.escape(words[0].encode()), re.IGNORECASE)
        found: list[Diagnosis] = []
        position = 0
        while len(found) < limit:
            hit = first.search(self._map, position)
            if hit is None:
                break
            start = self._map.rfind(b"\n", 0, hit.start()) + 1
            end = self._map.find(b"\n", hit.end())
            end = len(self._map) if end < 0 else end
            position = end + 1
            code, billable, title = self._map[start:end].decode().split("\t", 2)
            lowered = title.lower()
            if billable == "1" and all(word in lowered for word in words):
                found.append(Diagnosis(code=add_dot(code), title=title, billable=True))
        return found


_lock = threading.Lock()
_loaded: _Titles | None = None


def descriptions_path() -> Path:
    return Path(settings.VAR_DIR) / f"icd10cm-titles-{_code_list().stem}.tsv"


def _titles() -> _Titles:
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                path = descriptions_path()
                if not path.exists():
                    build_descriptions(path)
                _loaded = _Titles(path)
    return _loaded


def build_descriptions(path: Path) -> None:
    """Write the description file in a child process (the library's tree never enters this
    one); written beside and renamed, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    # Fixed arguments: this interpreter, this module, a path under the var directory.
    subprocess.run([sys.executable, "-m", "authorizations.icd10", str(partial)], check=True)  # noqa: S603
    os.replace(partial, path)


def _write_descriptions(target: str) -> None:
    library = importlib.import_module(_PACKAGE)
    rows = []
    for raw in _ITEMS:
        title = " ".join(library.get_description(raw).split())
        rows.append(f"{raw}\t{1 if raw in _BILLABLE else 0}\t{title}\n")
    Path(target).write_text("".join(rows), encoding="utf-8")


if __name__ == "__main__":
    _write_descriptions(sys.argv[1])
