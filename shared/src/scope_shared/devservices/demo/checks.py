"""What the demo shows and checks: queries over the shipped samples that must return results."""

from __future__ import annotations

import aiohttp

EXAMPLE_QUERIES = (
    "/v1/notices?q=travaux&sort=newest",
    "/v1/notices?cpv=45&facets=department&facets=source",
    "/v1/notices?group=procedure&notice_type=award&sort=newest",
    "/v1/notices?department=59&q=aménagement",
)

KNOWN_NOTICE = "france_boamp:26-7298"
"""A BOAMP notice of the shipped samples (works at La Madeleine, Nord)."""


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, object]]:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=30)) as response:
        body = await response.json(content_type=None)
        return response.status, body


def _total(body: dict[str, object]) -> int:
    total = body.get("total")
    value = total.get("value") if isinstance(total, dict) else None
    return value if isinstance(value, int) else 0


async def working_examples(
    session: aiohttp.ClientSession, api_url: str, queries: tuple[str, ...]
) -> list[tuple[str, int]]:
    """The example queries that return something, with their totals."""
    found = []
    for query in queries:
        status, body = await _get(session, api_url + query)
        total = _total(body)
        if status == 200 and total > 0:
            found.append((api_url + query, total))
    return found


async def run_checks(session: aiohttp.ClientSession, api_url: str) -> list[str]:
    """Known facts of the shipped samples, asked of the running API; returns what failed."""
    failures = []
    examples = await working_examples(session, api_url, EXAMPLE_QUERIES)
    if len(examples) < 3:
        failures.append(f"only {len(examples)} example queries return results")
    status, body = await _get(session, f"{api_url}/v1/notices/{KNOWN_NOTICE}")
    notice = body.get("notice")
    title = notice.get("title") if isinstance(notice, dict) else None
    if status != 200 or "AMENAGEMENTS" not in str(title):
        failures.append(f"GET /v1/notices/{KNOWN_NOTICE} answered {status}")
    for source in ("france_boamp", "europe_ted", "france_decp", "ocds_api"):
        status, body = await _get(session, f"{api_url}/v1/notices?source={source}")
        if status != 200 or not _total(body):
            failures.append(f"no notice from {source}")
    status, _ = await _get(session, f"{api_url}/readyz")
    if status != 200:
        failures.append(f"/readyz answered {status}")
    return failures
