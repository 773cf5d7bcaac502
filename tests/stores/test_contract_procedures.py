"""The contract suite, procedures: cards, grouping, corrigenda and cancellations."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from scope_shared.schema import Notice, NoticeStatus, NoticeType
from scope_shared.store import SearchQuery, SearchStore, contract, procedure_card
from tests.stores.model import (
    all_hits,
    expected_facet,
    procedures_of,
)

pytestmark = pytest.mark.timeout(600)


async def test_group_by_procedure_returns_one_card_per_procedure(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    grouped = procedures_of(latest)
    cards = {pid: procedure_card(notices) for pid, notices in grouped.items()}
    expected = sorted(
        cards, key=lambda p: (-cards[p].notice.published_at.timestamp(), cards[p].notice.id)
    )
    assert await all_hits(loaded, group_by_procedure=True, sort="newest") == expected
    result = await loaded.search(SearchQuery(group_by_procedure=True, page_size=100))
    assert result.total == len(grouped)
    for hit in result.hits:
        assert hit.card is not None
        assert hit.card == cards[hit.card.procedure_id]
        assert hit.notice == hit.card.notice


async def test_group_facets_count_cards(loaded: SearchStore, latest: list[Notice]) -> None:
    mains = [procedure_card(ns).notice for ns in procedures_of(latest).values()]
    result = await loaded.search(
        SearchQuery(group_by_procedure=True, facets=list(contract.FACETS), facet_size=100)
    )
    for name in contract.FACETS:
        assert [(b.value, b.count) for b in result.facets[name]] == (
            expected_facet(mains, name, 100)
        ), name


def follow_ups(call: Notice) -> tuple[Notice, Notice]:
    """A corrigendum moving the deadline a week later, then a cancellation, for `call`."""
    assert call.submission_deadline is not None
    corrigendum = msgspec.structs.replace(
        call, id=f"{call.id}-corr", source_id=f"{call.source_id}-corr",
        notice_type=NoticeType.CORRIGENDUM, published_at=call.published_at + timedelta(days=1),
        submission_deadline=call.submission_deadline + timedelta(days=7),
        title=f"Rectificatif : {call.title}",
    )  # fmt: skip
    cancellation = msgspec.structs.replace(
        call, id=f"{call.id}-cancel", source_id=f"{call.source_id}-cancel",
        notice_type=NoticeType.CANCELLATION, status=NoticeStatus.CANCELLED,
        published_at=call.published_at + timedelta(days=2), title=f"Annulation : {call.title}",
    )  # fmt: skip
    return corrigendum, cancellation


def _lone_call(latest: list[Notice]) -> Notice:
    """The newest call for tenders with a deadline that is alone in its procedure."""
    return max(
        (n for n in latest if n.notice_type is NoticeType.CONTRACT_NOTICE
         and n.submission_deadline and len(procedures_of(latest)[n.procedure_id]) == 1),
        key=lambda n: (n.published_at, n.id),
    )  # fmt: skip


async def test_corrigendum_and_cancellation_update_the_card(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    call = _lone_call(latest)
    corrigendum, cancellation = follow_ups(call)
    new_deadline = corrigendum.submission_deadline
    assert new_deadline is not None and call.submission_deadline is not None
    await loaded.index([corrigendum])
    card = await loaded.procedure(call.procedure_id)
    assert card is not None and card == procedure_card([call, corrigendum])
    assert card.notice.id == call.id and card.notice.submission_deadline == new_deadline
    grouped = {"group_by_procedure": True, "notice_type": ["contract_notice"]}
    moved = await all_hits(loaded, deadline_after=new_deadline, deadline_before=new_deadline,
                           **grouped)  # fmt: skip
    assert moved == [call.procedure_id]
    assert call.procedure_id not in await all_hits(
        loaded, deadline_before=call.submission_deadline, **grouped
    )
    await loaded.index([cancellation])
    card = await loaded.procedure(call.procedure_id)
    assert card is not None and card.notice.status is NoticeStatus.CANCELLED
    assert card.notice_ids == [call.id, corrigendum.id, cancellation.id]
    assert card.notice_types == ["contract_notice", "corrigendum", "cancellation"]
    assert card.updated_at == cancellation.published_at
    cancelled = await all_hits(loaded, status=["cancelled"], group_by_procedure=True)
    assert cancelled == [call.procedure_id]
    assert call.procedure_id not in await all_hits(loaded, status=["active"], **grouped)
    assert await loaded.procedure_notices(call.procedure_id) == [call, corrigendum, cancellation]


async def test_unsuccessful_award_shows_on_the_card_and_same_day_corrigenda_keep_their_order(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    call = _lone_call(latest)
    assert call.submission_deadline is not None
    day = call.published_at + timedelta(days=1)

    def corrigendum(number: int, days: int) -> Notice:
        source_id = f"26-{number}"
        return msgspec.structs.replace(
            call, id=f"{call.source}:{source_id}", source_id=source_id, version=1,
            notice_type=NoticeType.CORRIGENDUM, published_at=day,
            submission_deadline=call.submission_deadline + timedelta(days=days),
        )  # fmt: skip

    # BOAMP numbers grow: 26-10001 is the later of the two, published the same day.
    older, newer = corrigendum(9999, 50), corrigendum(10001, 60)
    award = msgspec.structs.replace(
        call, id=f"{call.id}-award", source_id=f"{call.source_id}-award", version=1,
        notice_type=NoticeType.AWARD, status=NoticeStatus.UNSUCCESSFUL,
        published_at=day + timedelta(days=90),
    )  # fmt: skip
    await loaded.index([older, newer, award])
    card = await loaded.procedure(call.procedure_id)
    assert card is not None
    assert card.notice.submission_deadline == newer.submission_deadline
    assert card.notice.status is NoticeStatus.UNSUCCESSFUL
    assert card.notice_ids == [call.id, older.id, newer.id, award.id]
    unsuccessful = await all_hits(loaded, status=["unsuccessful"], group_by_procedure=True)
    assert call.procedure_id in unsuccessful


async def test_unknown_procedure_has_no_card_and_no_notices(loaded: SearchStore) -> None:
    assert await loaded.procedure("own:nothing-here") is None
    assert await loaded.procedure_notices("own:nothing-here") == []


async def test_procedure_notices_are_latest_versions_oldest_first(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    shared = {pid: notices for pid, notices in procedures_of(latest).items() if len(notices) > 1}
    assert len(shared) >= 2, "the corpus must hold procedures of several notices"
    for pid, notices in shared.items():
        expected = sorted(notices, key=lambda n: (n.published_at, n.id))
        assert await loaded.procedure_notices(pid) == expected
        assert await loaded.procedure(pid) == procedure_card(notices)


async def test_store_answers_ping(store: SearchStore) -> None:
    assert await store.ping() is True


async def test_notice_moved_to_another_procedure_leaves_its_old_card(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    grouped = procedures_of(latest)
    pid, members = min((p, ns) for p, ns in grouped.items() if len(ns) > 1)
    moved = msgspec.structs.replace(
        members[0], procedure_id="own:moved-away", version=members[0].version + 1
    )
    await loaded.index([moved])
    assert await loaded.procedure(pid) == procedure_card(members[1:])
    assert await loaded.procedure("own:moved-away") == procedure_card([moved])
    found = await all_hits(loaded, group_by_procedure=True, sort="newest")
    assert sorted(found) == sorted([*(p for p in grouped), "own:moved-away"])
