"""Links a notice offers to be followed: web addresses only.

Sources are not trusted: a feed's `<link>javascript:…</link>` or an OCDS document URL in
`data:` would reach every front end that renders `source_url` as a link (and the Atom and RSS
feeds, as hrefs). A link with a scheme other than http or https is dropped; one without a
scheme (`www.ville.fr`, as some buyers write it) is kept as published.
"""

from __future__ import annotations

import re

import msgspec

from scope_shared.schema import Notice, Organization

_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_IGNORED = re.compile(r"[\x00-\x20]+")
"""Spaces and control characters: browsers strip them around a URL and drop tabs and line
breaks inside it, so the scheme is read without any of them, however many."""
WEB_SCHEMES = frozenset({"http", "https"})


def web_link(url: str | None) -> str | None:
    """`url` unless it names another scheme than http(s). Browsers ignore the spaces, tabs,
    line breaks and control characters in a URL (`java\\nscript:`), so the scheme is read
    without them."""
    if url is None:
        return None
    probe = _IGNORED.sub("", url)[:64].lower()
    scheme = _SCHEME.match(probe)
    return url if scheme is None or scheme.group(1) in WEB_SCHEMES else None


def web_links(notice: Notice) -> Notice:
    """The notice with every link that is not a web address dropped (notice and buyer)."""
    changes: dict[str, object] = {
        name: None
        for name in ("source_url", "documents_url", "tender_url")
        if getattr(notice, name) is not None and web_link(getattr(notice, name)) is None
    }
    if notice.buyer is not None and notice.buyer.url != web_link(notice.buyer.url):
        changes["buyer"] = _without_url(notice.buyer)
    return msgspec.structs.replace(notice, **changes) if changes else notice


def _without_url(organization: Organization) -> Organization:
    return msgspec.structs.replace(organization, url=None)
