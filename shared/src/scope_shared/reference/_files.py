"""Reading the shipped CSV files."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib.resources import files


def rows(name: str, encoding: str = "utf-8", delimiter: str = ",") -> Iterator[dict[str, str]]:
    with files("scope_shared.reference").joinpath("data", name).open(encoding=encoding) as fh:
        yield from csv.DictReader(fh, delimiter=delimiter)
