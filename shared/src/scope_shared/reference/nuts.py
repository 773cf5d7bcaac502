"""NUTS 2021 labels."""

from __future__ import annotations

from functools import cache

from scope_shared.reference._files import rows


@cache
def _labels() -> dict[str, tuple[str, str]]:
    return {r["code"]: (r["label_fr"], r["label_en"]) for r in rows("nuts_2021_fr_en.csv")}


def nuts_label(code: str, lang: str = "fr") -> str | None:
    labels = _labels().get(code)
    if labels is None:
        return None
    return labels[0] if lang == "fr" else labels[1]
