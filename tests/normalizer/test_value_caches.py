from __future__ import annotations

from scope_normalizer.values import caches


def test_file_cache_answers_repeats_until_cleared() -> None:
    calls: list[int] = []

    @caches.file_cache
    def double(value: int) -> int:
        calls.append(value)
        return 2 * value

    assert (double(2), double(2), double(3)) == (4, 4, 6)
    assert calls == [2, 3]
    caches.clear()
    assert double(2) == 4
    assert calls == [2, 3, 2]
