"""Field-level differences between two versions of a notice (the history endpoint's `changes`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from scope_search_api.diff import notice_changes
from scope_shared.schema import Amount, Lot, Notice, NoticeType


def _notice(**fields: object) -> Notice:
    base: dict[str, object] = {
        "id": "france_boamp:1", "procedure_id": "france_boamp:1", "source": "france_boamp",
        "source_id": "1", "notice_type": NoticeType.CONTRACT_NOTICE, "title": "Travaux",
        "published_at": datetime(2026, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 2, tzinfo=UTC), "raw_sha256": "a" * 64,
    }  # fmt: skip
    return Notice(**(base | fields))  # type: ignore[arg-type]


def test_changed_added_and_removed_fields_with_values() -> None:
    before = _notice(description="old", submission_deadline=datetime(2026, 2, 1, tzinfo=UTC))
    after = _notice(title="Travaux de voirie", description=None,
                    estimated_value=Amount(amount=Decimal("1000.50")))  # fmt: skip
    changes = msgspec.to_builtins(notice_changes(before, after))
    assert changes == [
        {"path": "title", "op": "changed", "before": "Travaux", "after": "Travaux de voirie"},
        {"path": "description", "op": "removed", "before": "old", "after": None},
        {"path": "submission_deadline", "op": "removed", "before": "2026-02-01T00:00:00Z",
         "after": None},
        {"path": "estimated_value", "op": "added", "before": None,
         "after": {"amount": "1000.50", "currency": "EUR"}},
    ]  # fmt: skip


def test_lists_of_objects_compare_item_by_item_and_plain_lists_as_a_whole() -> None:
    before = _notice(lots=[Lot(id="1", title="A"), Lot(id="2", title="B")],
                     cpv_additional=["45000000"])  # fmt: skip
    after = _notice(lots=[Lot(id="1", title="A"), Lot(id="2", title="B2"), Lot(id="3")],
                    cpv_additional=["45000000", "71000000"])  # fmt: skip
    changes = [(c.path, c.op) for c in notice_changes(before, after)]
    assert changes == [
        ("cpv_additional", "changed"), ("lots[1].title", "changed"), ("lots[2]", "added"),
    ]  # fmt: skip


def test_envelope_fields_are_not_changes() -> None:
    before = _notice()
    after = msgspec.structs.replace(before, version=2, raw_sha256="b" * 64,
                                    updated_at=datetime(2026, 3, 1, tzinfo=UTC))  # fmt: skip
    assert notice_changes(before, after) == []


def test_list_filled_or_emptied_is_added_or_removed_and_equal_amounts_are_no_change() -> None:
    before = _notice(cpv_additional=[], lots=[Lot(id="1")],
                     estimated_value=Amount(amount=Decimal("80000")))  # fmt: skip
    after = _notice(cpv_additional=["71000000"], lots=[],
                    estimated_value=Amount(amount=Decimal("80000.00")))  # fmt: skip
    added, removed = msgspec.to_builtins(notice_changes(before, after))
    assert added == {"path": "cpv_additional", "op": "added", "before": None,
                     "after": ["71000000"]}  # fmt: skip
    assert (removed["path"], removed["op"], removed["after"]) == ("lots", "removed", None)
    assert [lot["id"] for lot in removed["before"]] == ["1"]
