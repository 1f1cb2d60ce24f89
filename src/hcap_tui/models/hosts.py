"""Server URLs as users write them (`localhost`, `0.0.0.0:11434`, `https://box`, `http://[::1]:8000/v1`), checked.

A malformed value (`localhost:abc`, a port past 65535, `::::`, `http://[::1`) is one `HcapError` naming
where it came from (`--host`, a setting in hcap.toml, an environment variable) and the form expected,
before any client library gets to trip over it.
"""

from __future__ import annotations

import httpx

from hcap_tui.errors import HcapError

SCHEMES = ("http", "https")


class BadHost(HcapError):
    """A server URL that cannot be used."""


def server_url(value: str, source: str, *, example: str, default_port: int | None = None) -> str:
    """`value` as a full URL without a trailing slash; a bare host gets `http://` and, when given, `default_port`.

    `source` says where the value came from (`--host`, `OLLAMA_HOST`, `openai_base_url in hcap.toml`) and
    `example` is a URL of the expected form, both for the error message.
    """
    text = value.strip()

    def bad(reason: str) -> BadHost:
        return BadHost(f"{source} {value!r} is not a server URL ({reason}): give one such as {example}")

    if not text:
        raise bad("it is empty")
    try:
        url = httpx.URL(text if "://" in text else f"http://{text}")
    except httpx.InvalidURL as exc:
        raise bad(str(exc).rstrip(".").lower()) from None
    if url.scheme not in SCHEMES:
        raise bad(f"the scheme must be http or https, not {url.scheme}")
    if not url.host or any(c in url.host for c in " %"):
        raise bad("no host name")
    if url.port is not None and not 0 < url.port < 65536:
        raise bad(f"port {url.port} is not between 1 and 65535")
    if url.port is None and default_port is not None and url.scheme == "http":
        url = url.copy_with(port=default_port)
    return str(url).rstrip("/")
