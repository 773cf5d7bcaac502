"""The contract suite, full text: French analysis on real titles, query syntax, highlights.

Relevance scores differ between stores by design, so these tests assert membership (and a top
hit only where it is unambiguous), never score order.
"""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest

from scope_shared.schema import Notice
from scope_shared.store import SearchQuery, SearchStore
from tests.stores.model import (
    field_texts,
    fold,
    hit_ids,
    ids,
    searchable_words,
    with_title_word,
    words_of,
)
from tests.support.corpus import copy_as

pytestmark = pytest.mark.timeout(600)


# --- Full text, French analysis -----------------------------------------------------------


async def test_text_search_ignores_accents(loaded: SearchStore, latest: list[Notice]) -> None:
    accented = with_title_word(latest, "marchés", "marché")
    assert accented
    found = await hit_ids(loaded, "marches")
    assert accented <= found
    assert found == await hit_ids(loaded, "MARCHÉS")
    for n in latest:
        if n.id in found:
            assert any(w.startswith("march") for w in searchable_words(n)), n.title


async def test_text_search_stems_plurals(loaded: SearchStore, latest: list[Notice]) -> None:
    singular_or_plural = with_title_word(latest, "logement", "logements")
    assert with_title_word(latest, "logements")
    assert singular_or_plural <= await hit_ids(loaded, "logement")
    assert await hit_ids(loaded, "logement") == await hit_ids(loaded, "logements")


async def test_stop_words_do_not_change_the_hits(loaded: SearchStore, latest: list[Notice]) -> None:
    assert await hit_ids(loaded, "les travaux de la") == await hit_ids(loaded, "travaux")
    assert await hit_ids(loaded, "de la les") == ids(latest)


async def test_elided_article_is_removed(loaded: SearchStore, latest: list[Notice]) -> None:
    found = await hit_ids(loaded, "l'aménagement")
    assert with_title_word(latest, "aménagement") <= found
    assert found == await hit_ids(loaded, "aménagement")


async def test_phrase_requires_adjacent_words(loaded: SearchStore, latest: list[Notice]) -> None:
    in_title = {n.id for n in latest if "maison de santé" in n.title.lower()}
    assert in_title
    reversed_words = copy_as(
        latest[0], "phrase-1", title="Santé publique : entretien de la maison du gardien",
        description=None, lots=[],
    )  # fmt: skip
    await loaded.index([reversed_words])
    phrase = await hit_ids(loaded, '"maison de santé"')
    assert in_title <= phrase
    assert phrase < await hit_ids(loaded, "maison santé")
    assert reversed_words.id in await hit_ids(loaded, "maison santé")
    assert reversed_words.id not in phrase


async def test_excluded_word_removes_hits(loaded: SearchStore, latest: list[Notice]) -> None:
    with_both = await hit_ids(loaded, "construction")
    without = await hit_ids(loaded, "construction -logements")
    assert without == with_both - await hit_ids(loaded, "logements")
    assert without < with_both
    only_excluded = await hit_ids(loaded, "-travaux")
    assert only_excluded == ids(latest) - await hit_ids(loaded, "travaux")


async def test_or_between_words_unites_hits(loaded: SearchStore) -> None:
    either = await hit_ids(loaded, "lycée OR collège")
    assert either == await hit_ids(loaded, "lycée") | await hit_ids(loaded, "collège")
    both = await hit_ids(loaded, "lycée OR collège travaux")
    assert both == either & await hit_ids(loaded, "travaux")
    assert await hit_ids(loaded, "+travaux +lycée") == await hit_ids(loaded, "travaux lycée")


async def test_text_and_filters_combine(loaded: SearchStore, latest: list[Notice]) -> None:
    decp = {n.id for n in latest if n.source == "france_decp"}
    assert await hit_ids(loaded, "travaux", source=["france_decp"]) == (
        await hit_ids(loaded, "travaux") & decp
    )


async def test_user_text_cannot_inject_query_syntax(loaded: SearchStore) -> None:
    for q in ["NEAR(travaux lycée)", "title:travaux", "trav*", '"unclosed', "a' OR 1=1 --", "^"]:
        result = await loaded.search(SearchQuery(q=q))
        assert result.total >= 0


async def test_exact_title_is_the_top_hit(loaded: SearchStore, latest: list[Notice]) -> None:
    titles = Counter(n.title for n in latest)
    target = max(
        (n for n in latest if titles[n.title] == 1 and len(words_of(n.title)) >= 8),
        key=lambda n: (len(set(words_of(n.title))), n.id),
    )
    result = await loaded.search(SearchQuery(q=target.title, page_size=3))
    assert result.hits[0].notice.id == target.id
    assert result.hits[0].score is not None


async def test_highlights_mark_matched_words_and_escape_the_rest(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    result = await loaded.search(SearchQuery(q="marchés", highlight=True, page_size=50))
    marked = [h for h in result.hits if h.highlights]
    assert marked
    for hit in marked:
        for name, fragments in hit.highlights.items():
            source = " ".join(field_texts(hit.notice, name))
            for fragment in fragments:
                assert "<em>" in fragment
                plain = html.unescape(fragment.replace("<em>", "").replace("</em>", ""))
                assert plain.strip() in source
                for word in re.findall(r"<em>(.*?)</em>", fragment):
                    assert fold(html.unescape(word)).startswith("march")
    risky = copy_as(
        latest[0], "xss-1", title="Marché <script>alert(1)</script> & voirie / lot 2",
    )  # fmt: skip
    await loaded.index([risky])
    result = await loaded.search(SearchQuery(q="voirie script", highlight=True, page_size=100))
    (hit,) = [h for h in result.hits if h.notice.id == risky.id]
    (title,) = hit.highlights["title"]
    assert "<script>" not in title and "&lt;" in title and "&amp;" in title
    # OpenSearch's html encoder also writes `/` as `&#x2F;`: both stores escape alike.
    assert "&#x2F; lot 2" in title and "/" not in title.replace("</em>", "")
    assert "<em>voirie</em>" in title


async def test_both_stores_read_the_query_syntax_alike(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    """Stop words next to OR, a phrase of stop words, OR after an excluded word and a
    hyphenated word: each store reads them by the same rules (docs/api.md, `q`)."""
    same = [
        ("travaux OR le voirie", "travaux voirie"),
        ("le OR travaux", "travaux"),
        ("travaux -amiante OR voirie", "travaux voirie -amiante"),
    ]
    for query, meaning in same:
        found = await hit_ids(loaded, query)
        assert found == await hit_ids(loaded, meaning), query
    assert await hit_ids(loaded, '"de la"') == ids(latest)
    hyphenated = next(
        word
        for n in latest
        for word in n.title.split()
        if word.count("-") == 1 and all(len(p) > 3 and p.isalpha() for p in word.split("-"))
    )
    as_phrase = await hit_ids(loaded, f'"{hyphenated}"')
    assert as_phrase and await hit_ids(loaded, hyphenated) == as_phrase, hyphenated


@pytest.mark.parametrize("q", [None, "", "de la"])
async def test_relevance_without_words_gives_no_score(loaded: SearchStore, q: str | None) -> None:
    """Nothing to score: `score` is null on both stores, as the API documents."""
    result = await loaded.search(SearchQuery(q=q, sort="relevance", page_size=5))
    assert len(result.hits) == 5
    assert [hit.score for hit in result.hits] == [None] * 5
