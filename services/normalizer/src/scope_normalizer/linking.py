"""Procedure linking: every notice of one procedure gets the same `procedure_id`, across sources.

Rules, strongest first (the rule that decided is recorded in `procedure_match`):
1. A strong key the payload carries (eForms ContractFolderID, OCDS ocid, DECP buyer SIRET +
   contract id): the mapper puts it in `procedure_id`.
2. An explicit link to another notice (`related`: what a corrigendum corrects, an award awards):
   the procedure of that notice, even when it arrives later (the link is registered both ways).
3. A scored match with a notice of another source: same buyer SIRET, close title, same CPV
   division, publication dates close. Only across sources: within one source, a buyer's
   yearly renewal of the same contract is a new procedure, and sources link their own notices.
4. Otherwise the notice starts its own procedure.

The first procedure id a key is bound to stays: a later, weaker link never moves it. A strong
key seen for the first time is still scored against other sources before it starts a
procedure of its own: DECP's and OCDS's keys are known to no other source, so a contract would
otherwise never join the call it follows. Two notices of one procedure linked at the same time
(a call and its corrigendum, in one batch or on two replicas) meet on the key they share: the
one that binds it second joins the first one's procedure.
"""

from __future__ import annotations

import asyncio
import random
import re
from datetime import datetime, timedelta

import msgspec

from scope_shared.bus import KeyValueStore
from scope_shared.folding import fold_accents
from scope_shared.logging import get_logger
from scope_shared.schema import Notice, ProcedureMatch

log = get_logger(stage="link")

KEY_PREFIX = "key:"
BUYER_PREFIX = "buyer:"

SCORE_THRESHOLD = 0.6
"""Jaccard similarity of title words above which two titles name the same purchase; set on
real pairs (a BOAMP notice and its TED twin share most words, different purchases of one buyer
share few)."""
MAX_DAYS_APART = 180
"""A call and its award, or a notice and its twin in another bulletin, are months apart at most."""
MAX_CANDIDATES = 200
"""Recent procedures remembered per buyer for scored matching."""
REMEMBER_ATTEMPTS = 5
"""Compare-and-set attempts to add a buyer's candidate when other replicas change it too."""
REMEMBER_BACKOFF = 0.005
"""Seconds: the jittered back-off before a retry is drawn below this, doubled each attempt."""
BUYER_LOCKS = 64

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = frozenset(
    {
        "de",
        "des",
        "du",
        "la",
        "le",
        "les",
        "et",
        "a",
        "au",
        "aux",
        "en",
        "pour",
        "par",
        "sur",
        "un",
        "une",
        "d",
        "l",
        "avec",
        "dans",
        "lot",
        "lots",
        "marche",
        "marches",
        "accord",
        "cadre",
        "relatif",
        "relative",
        "prestations",
        "prestation",
    }
)


class BuyerCandidate(msgspec.Struct, frozen=True):
    procedure_id: str
    source: str
    words: list[str]
    cpv_division: str | None
    published_at: datetime


class BuyerCandidates(msgspec.Struct, frozen=True):
    items: list[BuyerCandidate]


_candidates_decoder = msgspec.json.Decoder(BuyerCandidates)
_encoder = msgspec.json.Encoder()


def title_words(title: str) -> set[str]:
    return {w for w in _WORD.findall(fold_accents(title)) if len(w) > 2 and w not in _STOP_WORDS}


def similarity(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


class ProcedureLinker:
    def __init__(self, store: KeyValueStore) -> None:
        self.store = store
        # Notices of one buyer mapped at once by this process take turns on its entry, so
        # that compare-and-set conflicts come only from other replicas. Striped: bounded.
        self._buyer_locks = [asyncio.Lock() for _ in range(BUYER_LOCKS)]

    async def link(self, notice: Notice) -> Notice:
        """The notice with its procedure id and the rule that set it; registers its keys."""
        buyer_key = (
            BUYER_PREFIX + notice.buyer.siret if notice.buyer and notice.buyer.siret else None
        )
        keys = _keys(notice)
        words = title_words(notice.title)
        # Read once, all at once: what scoring compares with is also what remembering starts
        # from, and the keys' bindings are independent round trips.
        buyer_read = self.store.get(buyer_key) if buyer_key else _nothing()
        buyer_entry, bound = await asyncio.gather(
            buyer_read, asyncio.gather(*(self._bound(key) for key, _ in keys))
        )
        seen = dict(zip((key for key, _ in keys), bound, strict=True))
        procedure_id, match = _resolve(notice, words, keys, seen, buyer_entry)
        procedure_id, match = await self._bind(notice, keys, seen, (procedure_id, match))
        if buyer_key:
            await self._remember_buyer(notice, words, procedure_id, buyer_key, buyer_entry)
        return msgspec.structs.replace(notice, procedure_id=procedure_id, procedure_match=match)

    async def _bind(
        self,
        notice: Notice,
        keys: list[tuple[str, ProcedureMatch]],
        seen: dict[str, tuple[str, ProcedureMatch] | None],
        resolved: tuple[str, ProcedureMatch],
    ) -> tuple[str, ProcedureMatch]:
        """Bind the keys that were free to the procedure; the procedure, maybe another.

        A key bound meanwhile by a notice linked at the same time (in this batch or on another
        replica: a call and its corrigendum) wins: the notice joins that procedure, and the
        keys this call had just bound follow it, so the two are not split. A key that was
        already bound when read keeps its procedure (the first binding stays).
        """
        procedure_id, match = resolved
        created: list[str] = []
        for key, rule in keys:
            if seen[key] is not None:
                continue
            if await self.store.create(KEY_PREFIX + key, _binding(procedure_id, match)):
                created.append(key)
                continue
            bound = await self._bound(key)
            if bound is None or bound[0] == procedure_id:
                continue
            procedure_id, match = _through(notice, key, rule, bound)
            for own in created:
                await self.store.put(KEY_PREFIX + own, _binding(procedure_id, match))
            log.info("procedure_joined", notice_id=notice.id, key=key, procedure_id=procedure_id)
        return procedure_id, match

    async def _bound(self, key: str) -> tuple[str, ProcedureMatch] | None:
        found = await self.store.get(KEY_PREFIX + key)
        if found is None:
            return None
        rule, _, procedure_id = found[0].decode().partition("\t")
        return procedure_id, ProcedureMatch(rule)

    async def _remember_buyer(
        self,
        notice: Notice,
        words: set[str],
        procedure_id: str,
        key: str,
        found: tuple[bytes, int] | None,
    ) -> None:
        """Add the notice's procedure to its buyer's recent candidates, compare-and-set: on a
        concurrent change (another task or replica, same buyer) read again and retry."""
        entry = BuyerCandidate(
            procedure_id=procedure_id,
            source=notice.source,
            words=sorted(words),
            cpv_division=notice.cpv_main[:2] if notice.cpv_main else None,
            published_at=notice.published_at,
        )
        async with self._buyer_locks[hash(key) % BUYER_LOCKS]:
            await self._add_candidate(key, entry, found)

    async def _add_candidate(
        self, key: str, entry: BuyerCandidate, found: tuple[bytes, int] | None
    ) -> None:
        procedure_id = entry.procedure_id
        for attempt in range(REMEMBER_ATTEMPTS):
            if attempt > 1:
                # Changed again: another replica writes it too; back off (full jitter).
                await asyncio.sleep(random.uniform(0, REMEMBER_BACKOFF * 2**attempt))  # noqa: S311
            if attempt:
                # The entry read before taking the lock was stale, or changed since.
                found = await self.store.get(key)
            items = _candidates_decoder.decode(found[0]).items if found else []
            if any(c.procedure_id == procedure_id and c.source == entry.source for c in items):
                return
            value = _encoder.encode(BuyerCandidates(items=[*items, entry][-MAX_CANDIDATES:]))
            if found is None:
                stored = await self.store.create(key, value)
            else:
                stored = await self.store.update(key, value, found[1])
            if stored:
                return
        # Only a scoring candidate is lost, never a notice; worth knowing if it happens often.
        log.warning(
            "buyer_candidate_dropped", procedure_id=procedure_id, attempts=REMEMBER_ATTEMPTS
        )


def _keys(notice: Notice) -> list[tuple[str, ProcedureMatch]]:
    """The notice's keys, strongest first, each with the rule a notice joining through it
    records: its strong key, the notices it cites, its own id."""
    keys: list[tuple[str, ProcedureMatch]] = []
    if notice.procedure_match is not ProcedureMatch.OWN:
        keys.append((notice.procedure_id, notice.procedure_match))
    keys += [(r.notice_id, ProcedureMatch.NOTICE_LINK) for r in notice.related]
    keys.append((notice.id, ProcedureMatch.NOTICE_LINK))
    return list(dict.fromkeys(keys))


def _resolve(
    notice: Notice,
    words: set[str],
    keys: list[tuple[str, ProcedureMatch]],
    seen: dict[str, tuple[str, ProcedureMatch] | None],
    buyer_entry: tuple[bytes, int] | None,
) -> tuple[str, ProcedureMatch]:
    """The procedure of the strongest bound key; else, for a notice without a strong key, the
    first notice it cites; else a scored match with another source (also for a new strong
    key: a DECP contract joins the BOAMP call it follows, whose source knows no such key);
    else the strong key, or the notice's own id."""
    for key, rule in keys:
        bound = seen[key]
        if bound:
            return _through(notice, key, rule, bound)
    strong = notice.procedure_match is not ProcedureMatch.OWN
    if notice.related and not strong:
        return notice.related[0].notice_id, ProcedureMatch.NOTICE_LINK
    scored = _scored_match(notice, words, buyer_entry)
    if scored:
        return scored, ProcedureMatch.SCORED
    if strong:
        return notice.procedure_id, notice.procedure_match
    return notice.id, ProcedureMatch.OWN


def _through(
    notice: Notice, key: str, rule: ProcedureMatch, bound: tuple[str, ProcedureMatch]
) -> tuple[str, ProcedureMatch]:
    """The procedure a bound key leads to, and the rule the notice records for it. A notice's
    own key remembers how it was first linked (a scored match stays "scored" when the notice
    is processed again)."""
    return bound[0], bound[1] if key == notice.id else rule


async def _nothing() -> None:
    return None


def _binding(procedure_id: str, match: ProcedureMatch) -> bytes:
    return f"{match.value}\t{procedure_id}".encode()


def _scored_match(notice: Notice, words: set[str], found: tuple[bytes, int] | None) -> str | None:
    """The best candidate procedure of another source among the buyer's recent ones, by
    the notice's title `words`."""
    if found is None:
        return None
    division = notice.cpv_main[:2] if notice.cpv_main else None
    best, best_score = None, SCORE_THRESHOLD
    for candidate in _candidates_decoder.decode(found[0]).items:
        if candidate.source == notice.source:
            continue
        if division and candidate.cpv_division and division != candidate.cpv_division:
            continue
        if abs(candidate.published_at - notice.published_at) > timedelta(days=MAX_DAYS_APART):
            continue
        score = similarity(words, set(candidate.words))
        if score >= best_score:
            best, best_score = candidate.procedure_id, score
    return best
