"""French text analysis done in Python, so that SQLite FTS5 only sees ready-made tokens.

FTS5 has no French analysis of its own, so both sides of a search run this one chain: the
indexer writes the analysed tokens into the FTS table and the query is analysed the same way
before it becomes a MATCH expression. The chain follows OpenSearch's French analysis:

1. words: runs of letters and digits, an apostrophe inside a word kept (`l'aménagement`), as
   Lucene's StandardTokenizer does (which also keeps `relance_lot`, `3,5` and `w.boamp.fr`
   whole: docs/stores.md lists that difference);
2. elision: `l'`, `d'`, `qu'`, `jusqu'`... removed (Lucene `FrenchAnalyzer.DEFAULT_ARTICLES`);
3. lowercase;
4. stop words: `FRENCH_STOP_WORDS`, Lucene's default French set (`_french_`);
5. stemming: the Snowball `french` stemmer of PyStemmer (not Lucene's `light_french`: the
   difference is shown in docs/stores.md);
6. ASCII folding (`é` -> `e`, `œ` -> `oe`), last, so that the stemmer sees real French words
   and a query typed without accents meets the accented text.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from itertools import chain

import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type information

_LUCENE_FRENCH_STOP = """
au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes moi
mon ne nos notre nous on ou par pas pour qu que qui sa se ses sur ta te tes toi ton tu un une
vos votre vous c d j l à m n s t y
étée étées étant suis es êtes sont serai seras sera serons serez seront serais serait serions
seriez seraient étais était étions étiez étaient fus fut fûmes fûtes furent sois soit soyons
soyez soient fusse fusses fussions fussiez fussent
ayant eu eue eues eus ai avons avez ont aurai aurons aurez auront aurais aurait aurions auriez
auraient avais avait aviez avaient eut eûmes eûtes eurent aie aies ait ayons ayez aient eusse
eusses eût eussions eussiez eussent
ceci cela celà cet cette ici ils les leurs quel quels quelle quelles sans soi
"""
FRENCH_STOP_WORDS: frozenset[str] = frozenset(_LUCENE_FRENCH_STOP.split())
"""Lucene's `FrenchAnalyzer.getDefaultStopSet()`, which OpenSearch names `_french_`: the
Snowball French stop list (https://snowballstem.org/algorithms/french/stop.txt, BSD licence)
as Lucene ships it in `french_stop.txt`, where `son`, `été`, `étés`, `est`, `sommes`, `fût`,
`as`, `auras`, `aura` and `avions` are commented out as homonyms of content words. Checked
word by word against the `_french_` stop filter of the OpenSearch 2.19 node the tests use."""

ELISION_ARTICLES: frozenset[str] = frozenset(
    ("l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu")
)
"""Lucene `FrenchAnalyzer.DEFAULT_ARTICLES`: what the elision filter strips before `'`."""

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_APOSTROPHE = re.compile(r"['’]")

_SPECIAL_FOLDS = str.maketrans(
    {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
"""Letters NFKD does not decompose but Lucene's ASCIIFoldingFilter maps."""

_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """One stemmer per thread: PyStemmer's objects keep a cache and are not thread-safe."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = Stemmer.Stemmer("french")
        _local.stemmer = stemmer
    return stemmer


def fold(text: str) -> str:
    """ASCII folding: accents dropped, ligatures expanded."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_FOLDS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def _analyse_word(word: str) -> tuple[str, ...]:
    """Elision, lowercase, stop words, stemming, folding of one tokenizer word.

    Cached: French text reuses a small vocabulary, so bulk indexing mostly hits the cache.
    An apostrophe left after elision (`aujourd'hui`) splits the word, as FTS5 would.
    """
    lowered = word.lower()
    head, _, tail = _APOSTROPHE.sub("'", lowered).partition("'")
    parts = tail.split("'") if tail and head in ELISION_ARTICLES else [head, *tail.split("'")]
    tokens: list[str] = []
    for part in parts:
        if not part or part in FRENCH_STOP_WORDS:
            continue
        folded = fold(_stemmer().stemWord(part))
        if folded:
            tokens.append(folded)
    return tuple(tokens)


def words(text: str) -> Iterator[re.Match[str]]:
    """The tokenizer: words of the original text, with their positions (for highlights)."""
    return _WORD.finditer(text)


def analyse(text: str | None) -> list[str]:
    """The indexed tokens of a text, in order."""
    if not text:
        return []
    return list(chain.from_iterable(map(_analyse_word, _WORD.findall(text))))


def analyse_word(word: str) -> tuple[str, ...]:
    """The tokens one word of the original text becomes (none for a stop word)."""
    return _analyse_word(word)


def analysed_text(*texts: str | None) -> str:
    """Texts as one space-separated token string: what the FTS table stores."""
    words = chain.from_iterable(_WORD.findall(text) for text in texts if text)
    return " ".join(chain.from_iterable(map(_analyse_word, words)))
