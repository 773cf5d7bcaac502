"""The async OpenSearch client the store uses: msgspec as its JSON codec, bounded timeouts."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import aiohttp
import msgspec
from opensearchpy import AIOHttpConnection, AsyncOpenSearch, AsyncTransport
from opensearchpy.exceptions import (
    HTTP_EXCEPTIONS,
    ConnectionError,
    ConnectionTimeout,
    TransportError,
)
from opensearchpy.serializer import JSONSerializer

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class MsgspecSerializer(JSONSerializer):
    """JSON through msgspec: several times faster than the stdlib codec on bulk responses and
    search hits, and it encodes datetimes and Decimals the way the schema does."""

    def loads(self, s: str | bytes) -> Any:
        return _decoder.decode(s)

    def dumps(self, data: Any) -> Any:
        if isinstance(data, str | bytes | io.IOBase):
            return data
        return _encoder.encode(data).decode()


class RawConnection(AIOHttpConnection):
    """opensearch-py's aiohttp connection, plus requests whose answer comes back as bytes.

    `perform_request` hands back the body decoded to text, which msgspec then has to encode
    to UTF-8 again before decoding it (French text is not ASCII): 40 us of a search page's
    60 us of decoding. Errors are raised as `perform_request` raises them.
    """

    async def perform_raw(self, method: str, url: str, *, body: bytes, seconds: float) -> bytes:
        if self.session is None:
            await self._create_aiohttp_session()  # what perform_request does first, too
        try:
            async with self.session.request(
                method, self.host + self.url_prefix + url, data=body, headers=_JSON_BODY,
                timeout=aiohttp.ClientTimeout(total=seconds),
            ) as response:  # fmt: skip
                data: bytes = await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise ConnectionTimeout("TIMEOUT", str(error), error) from error
        except Exception as error:  # as perform_request: any failure to talk to the node
            raise ConnectionError("N/A", str(error), error) from error
        if not 200 <= response.status < 300:
            raise _error(response.status, data)
        return data


_JSON_BODY = {"content-type": "application/json"}
_error_decoder = msgspec.json.Decoder()


def _error(status: int, data: bytes) -> Exception:
    """The exception opensearch-py raises for this status, with the node's error type."""
    info: Any = None
    message: Any = data.decode("utf-8", "replace")
    with contextlib.suppress(msgspec.DecodeError):
        info = _error_decoder.decode(data)
        if isinstance(info, dict):
            message = info.get("error", message)
            if isinstance(message, dict) and "type" in message:
                message = message["type"]
    return HTTP_EXCEPTIONS.get(status, TransportError)(status, message, info)


class RawTransport(AsyncTransport):
    """opensearch-py's transport, plus requests whose answer is returned undecoded.

    A search answer is decoded once, straight into the store's Structs (results.py), instead
    of into dicts by the serializer and then converted: decoding a page of 20 notices that
    way was a quarter of the search API's CPU per request.
    """

    async def perform_raw(self, method: str, url: str, *, body: bytes, seconds: float) -> bytes:
        """The answer's body; no retry (the client makes none either, see `make_client`)."""
        await self._async_call()
        connection: RawConnection = self.get_connection()
        try:
            data = await connection.perform_raw(method, url, body=body, seconds=seconds)
        except ConnectionTimeout:
            # A slow answer is no dead node (opensearch-py marks none with retry_on_timeout
            # off): marking it would rotate every node of a busy cluster out of the pool.
            raise
        except ConnectionError:
            self.mark_dead(connection)
            raise
        self.connection_pool.mark_live(connection)
        return data


def make_client(
    url: str,
    *,
    timeout: float,
    connections: int = 10,
    ca_certs: str | None = None,
    verify_certs: bool = True,
) -> Any:
    """An `AsyncOpenSearch` for one URL (or several, comma-separated).

    Args:
        url: `http://host:9200`; user and password may be in the URL.
        timeout: Seconds for every request unless a call passes its own (bulk and reindex do).
        connections: Pool size per node: the indexer's concurrent batches plus searches.
        ca_certs: CA bundle for an `https://` URL; the system's trust store when None.
        verify_certs: False only for self-signed trial certificates.
    """
    hosts = [h.strip() for h in url.split(",") if h.strip()]
    return AsyncOpenSearch(
        hosts=hosts,
        transport_class=RawTransport,
        connection_class=RawConnection,
        serializer=MsgspecSerializer(),
        timeout=timeout,
        # No hidden retries: a failed write becomes retryable outcomes at once (the indexer
        # backs off), a failed read an error the API maps to 503. Retrying inside the client
        # would also re-send a streamed bulk body that the first attempt already consumed.
        max_retries=0,
        retry_on_timeout=False,
        maxsize=connections,
        ca_certs=ca_certs or None,
        verify_certs=verify_certs,
        ssl_show_warn=verify_certs,
    )
