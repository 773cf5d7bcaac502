"""Procedure linking rules and the version ledger, on the in-memory key-value store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from scope_normalizer.linking import (
    BUYER_PREFIX,
    BuyerCandidates,
    ProcedureLinker,
    similarity,
    title_words,
)
from scope_normalizer.versions import VersionLedger
from scope_shared.bus import MemoryKeyValue
from scope_shared.schema import (
    Notice,
    NoticeType,
    Organization,
    ProcedureMatch,
    RelatedNotice,
    RelationKind,
)

DAY = datetime(2026, 1, 21, tzinfo=UTC)
SIRET = "21590368300013"


def _notice(
    source: str,
    source_id: str,
    *,
    title: str = "Travaux d'aménagement de la mairie",
    procedure: tuple[ProcedureMatch, str] | None = None,
    related: list[str] | None = None,
    siret: str | None = None,
    cpv: str | None = "45000000",
    published: datetime = DAY,
    notice_type: NoticeType = NoticeType.CONTRACT_NOTICE,
) -> Notice:
    own = f"{source}:{source_id}"
    match, key = procedure or (ProcedureMatch.OWN, own)
    return Notice(
        id=own,
        procedure_id=key,
        procedure_match=match,
        source=source,
        source_id=source_id,
        notice_type=notice_type,
        title=title,
        buyer=Organization(name="Commune", siret=siret) if siret else None,
        cpv_main=cpv,
        related=[RelatedNotice(relation=RelationKind.AWARDS, notice_id=r) for r in related or []],
        published_at=published,
        updated_at=published,
        raw_sha256="0" * 64,
    )


async def test_contract_folder_links_notices_of_two_sources() -> None:
    linker = ProcedureLinker(MemoryKeyValue())
    folder = (ProcedureMatch.CONTRACT_FOLDER, "contract_folder:1f2e")
    ted = await linker.link(_notice("europe_ted", "1-2024", procedure=folder))
    boamp = await linker.link(_notice("france_boamp", "24-1", procedure=folder))
    assert ted.procedure_id == boamp.procedure_id == "contract_folder:1f2e"
    assert boamp.procedure_match is ProcedureMatch.CONTRACT_FOLDER


async def test_award_arriving_before_its_call_shares_the_procedure() -> None:
    linker = ProcedureLinker(MemoryKeyValue())
    award = await linker.link(
        _notice("france_boamp", "16-2", related=["france_boamp:16-1"], notice_type=NoticeType.AWARD)
    )
    call = await linker.link(_notice("france_boamp", "16-1"))
    assert award.procedure_id == call.procedure_id == "france_boamp:16-1"
    assert award.procedure_match is ProcedureMatch.NOTICE_LINK


async def test_strong_key_arriving_later_joins_the_linked_procedure() -> None:
    linker = ProcedureLinker(MemoryKeyValue())
    award = await linker.link(_notice("europe_ted", "9-2024", related=["europe_ted:1-2024"]))
    call = await linker.link(
        _notice(
            "europe_ted",
            "1-2024",
            procedure=(ProcedureMatch.CONTRACT_FOLDER, "contract_folder:abc"),
        )
    )
    assert call.procedure_id == award.procedure_id == "europe_ted:1-2024"
    later = await linker.link(
        _notice(
            "france_boamp",
            "24-7",
            procedure=(ProcedureMatch.CONTRACT_FOLDER, "contract_folder:abc"),
        )
    )
    assert later.procedure_id == "europe_ted:1-2024"


async def test_scored_match_needs_same_buyer_close_title_and_dates() -> None:
    linker = ProcedureLinker(MemoryKeyValue())
    first = await linker.link(_notice("france_boamp", "26-1", siret=SIRET))
    twin = await linker.link(
        _notice("europe_ted", "5-2026", siret=SIRET, published=DAY + timedelta(days=3))
    )
    assert twin.procedure_id == first.procedure_id
    assert twin.procedure_match is ProcedureMatch.SCORED
    again = await linker.link(
        _notice("europe_ted", "5-2026", siret=SIRET, published=DAY + timedelta(days=3))
    )
    assert again.procedure_match is ProcedureMatch.SCORED


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"source": "france_boamp", "source_id": "26-2"}, "same source"),
        ({"title": "Fourniture de repas scolaires"}, "different title"),
        ({"cpv": "55500000"}, "different CPV division"),
        ({"published": DAY + timedelta(days=400)}, "a year apart"),
        ({"siret": "21310555400017"}, "another buyer"),
    ],
)
async def test_scored_match_rejects(change: dict[str, object], why: str) -> None:
    linker = ProcedureLinker(MemoryKeyValue())
    await linker.link(_notice("france_boamp", "26-1", siret=SIRET))
    args: dict[str, object] = {"source": "europe_ted", "source_id": "5-2026", "siret": SIRET}
    args |= change
    source, source_id = str(args.pop("source")), str(args.pop("source_id"))
    other = await linker.link(_notice(source, source_id, **args))  # type: ignore[arg-type]
    assert other.procedure_match is ProcedureMatch.OWN, why
    assert other.procedure_id == other.id


class RacingKeyValue(MemoryKeyValue):
    """Another worker links a notice of the same buyer between each read and write here."""

    def __init__(self, rival: Notice) -> None:
        super().__init__()
        self.rival: Notice | None = rival
        self.buyer_reads = 0

    async def get(self, key: str) -> tuple[bytes, int] | None:
        if key.startswith(BUYER_PREFIX):
            self.buyer_reads += 1
        return await super().get(key)

    async def _race(self) -> None:
        if self.rival is not None:
            rival, self.rival = self.rival, None
            await ProcedureLinker(self).link(rival)

    async def create(self, key: str, value: bytes) -> bool:
        if key.startswith(BUYER_PREFIX):
            await self._race()
        return await super().create(key, value)

    async def update(self, key: str, value: bytes, revision: int) -> bool:
        if key.startswith(BUYER_PREFIX):
            await self._race()
        return await super().update(key, value, revision)


@pytest.mark.parametrize("first_of_buyer", [True, False])
async def test_concurrent_links_of_one_buyer_keep_both_candidates(first_of_buyer: bool) -> None:
    rival = _notice("france_boamp", "26-9", siret=SIRET, title="Fourniture de repas scolaires")
    store = RacingKeyValue(rival)
    linker = ProcedureLinker(store)
    if not first_of_buyer:  # the buyer's entry exists: the race is on update, else on create
        await linker.link(
            _notice("france_boamp", "26-0", siret=SIRET, title="Nettoyage des locaux")
        )
        store.rival = rival
    await linker.link(_notice("france_boamp", "26-1", siret=SIRET))
    assert store.rival is None, "the rival wrote in between"
    found = await store.get(BUYER_PREFIX + SIRET)
    assert found is not None
    remembered = {c.procedure_id for c in msgspec.json.decode(found[0], type=BuyerCandidates).items}
    expected = {"france_boamp:26-1", "france_boamp:26-9"} | (
        set() if first_of_buyer else {"france_boamp:26-0"}
    )
    assert remembered == expected
    # A twin in another source is matched on the candidate that survived the race.
    twin = await linker.link(_notice("europe_ted", "5-2026", siret=SIRET))
    assert twin.procedure_id == "france_boamp:26-1"
    assert twin.procedure_match is ProcedureMatch.SCORED


class YieldingKeyValue(MemoryKeyValue):
    """Each call lets other tasks run, as a network round trip does."""

    async def get(self, key: str) -> tuple[bytes, int] | None:
        await asyncio.sleep(0)
        return await super().get(key)

    async def create(self, key: str, value: bytes) -> bool:
        await asyncio.sleep(0)
        return await super().create(key, value)

    async def update(self, key: str, value: bytes, revision: int) -> bool:
        await asyncio.sleep(0)
        return await super().update(key, value, revision)


async def test_notices_of_one_buyer_linked_at_once_are_all_remembered() -> None:
    store = YieldingKeyValue()
    linker = ProcedureLinker(store)
    notices = [_notice("france_decp", f"c-{i}", siret=SIRET) for i in range(40)]
    await asyncio.gather(*(linker.link(n) for n in notices))
    found = await store.get(BUYER_PREFIX + SIRET)
    assert found is not None
    remembered = {c.procedure_id for c in msgspec.json.decode(found[0], type=BuyerCandidates).items}
    assert remembered == {n.id for n in notices}


async def test_a_notice_reads_its_buyer_entry_once() -> None:
    store = RacingKeyValue(_notice("france_boamp", "26-9", siret=SIRET))
    store.rival = None
    linker = ProcedureLinker(store)
    await linker.link(_notice("france_boamp", "26-1", siret=SIRET))
    store.buyer_reads = 0
    await linker.link(_notice("europe_ted", "5-2026", siret=SIRET))  # scored, then remembered
    assert store.buyer_reads == 1


def test_title_words_fold_accents_and_drop_stop_words() -> None:
    assert title_words("Travaux d'aménagement de la Mairie - lot 2") == {
        "travaux",
        "amenagement",
        "mairie",
    }
    assert similarity({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)


async def test_versions_increase_per_new_content_and_repeat_for_known_content() -> None:
    ledger = VersionLedger(MemoryKeyValue())
    assert await ledger.version_for("x:1", "a" * 64) == (1, True)
    assert await ledger.version_for("x:1", "b" * 64) == (2, True)
    assert await ledger.version_for("x:1", "a" * 64) == (1, False)
    assert await ledger.version_for("x:1", "c" * 64) == (3, True)
    assert await ledger.version_for("x:2", "a" * 64) == (1, True)


async def test_contract_data_with_its_own_key_joins_the_call_it_follows() -> None:
    """DECP's key (buyer SIRET + contract id) is known to no other source: the first contract
    of that key is still scored against the buyer's calls, and its key then leads there."""
    linker = ProcedureLinker(MemoryKeyValue())
    call = await linker.link(_notice("france_boamp", "26-1", siret=SIRET))
    key = (ProcedureMatch.BUYER_CONTRACT_ID, f"buyer_contract_id:{SIRET}:2026-17")
    later = DAY + timedelta(days=60)
    contract = await linker.link(
        _notice(
            "france_decp",
            "c-1",
            siret=SIRET,
            procedure=key,
            published=later,
            notice_type=NoticeType.CONTRACT_DATA,
        )
    )
    assert (contract.procedure_id, contract.procedure_match) == (
        call.procedure_id,
        ProcedureMatch.SCORED,
    )
    modified = await linker.link(
        _notice("france_decp", "c-1-mod", siret=SIRET, procedure=key, title="Avenant 1",
                published=later + timedelta(days=90), notice_type=NoticeType.CONTRACT_DATA)
    )  # fmt: skip
    assert (modified.procedure_id, modified.procedure_match) == (
        call.procedure_id,
        ProcedureMatch.BUYER_CONTRACT_ID,
    )


@pytest.mark.parametrize("call_first", [True, False])
async def test_call_and_its_corrigendum_linked_at_once_share_the_procedure(
    call_first: bool,
) -> None:
    """The call carries its contract folder, the corrigendum only cites the call: each binds
    keys the other reads, and they must not end in two procedures."""
    linker = ProcedureLinker(YieldingKeyValue())
    call = _notice("france_boamp", "26-1",
                   procedure=(ProcedureMatch.CONTRACT_FOLDER, "contract_folder:f"))  # fmt: skip
    corrigendum = _notice("france_boamp", "26-2", related=["france_boamp:26-1"],
                          notice_type=NoticeType.CORRIGENDUM)  # fmt: skip
    pair = (call, corrigendum) if call_first else (corrigendum, call)
    first, second = await asyncio.gather(*(linker.link(n) for n in pair))
    assert first.procedure_id == second.procedure_id
    # A notice of either, later, finds the same procedure.
    award = await linker.link(
        _notice(
            "france_boamp",
            "26-3",
            procedure=(ProcedureMatch.CONTRACT_FOLDER, "contract_folder:f"),
            notice_type=NoticeType.AWARD,
        )
    )
    assert award.procedure_id == first.procedure_id
