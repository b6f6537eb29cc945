"""HTTP helpers shared by every module: who the client is, and answers kept out of caches."""

import ipaddress
from collections.abc import Callable
from functools import lru_cache, wraps

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

PRIVATE = "private, no-store"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address written in `value` (an IPv4-mapped IPv6 address as IPv4), or None."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(request: HttpRequest | None) -> str | None:
    """The address of the client, the one place that decides it (audit log, sign-in
    throttling, rate limits).

    It is the connecting address (`REMOTE_ADDR`), unless that is one of `TRUSTED_PROXIES` and
    `PROXY_COUNT` is set: then it is the `PROXY_COUNT`-th address from the right of
    `X-Forwarded-For`, the one the outermost of our proxies saw. Entries further left were
    written by the client and are never read. A header that is missing, too short or holds
    anything but plain addresses counts as absent: the connecting address is used.
    """
    if request is None:
        return None
    meta = request.META
    remote = _address(meta.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    hops_expected = settings.PROXY_COUNT
    if hops_expected <= 0 or not any(
        remote in network for network in _networks(tuple(settings.TRUSTED_PROXIES))
    ):
        return str(remote)
    hops = meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(hops) < hops_expected:
        return str(remote)
    ours = [_address(hop) for hop in hops[-hops_expected:]]
    client = ours[0]
    if client is None or None in ours:
        return str(remote)
    return str(client)


def private_response[**P, R: HttpResponseBase](view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view's answers `Cache-Control: private, no-store`, even to visitors who are not
    signed in (a feed or export opened with a secret key): no browser or proxy keeps a copy.
    Answers to signed-in users get it anyway from `PrivateCacheMiddleware`."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        response = view(*args, **kwargs)
        response["Cache-Control"] = PRIVATE
        return response

    return wrapped
