"""URL canonicalisation: one spelling per article, whatever the outlet's links look like."""

import re
from functools import lru_cache
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

# Query parameters that only track the reader. Exact names, then prefixes; extend freely.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid",
        "igshid", "xtor", "xtref", "ocid", "cmpid", "ns_source", "ns_mchannel", "ns_campaign",
        "ref_src", "_ga", "_gl", "spm", "sr_share", "s_cid",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "oly_", "vero_")
HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
DEFAULT_PORTS = {"http": 80, "https": 443}
WEB_SCHEMES = ("http", "https")
# What browsers ignore in a link (WHATWG URL): C0 controls and spaces around it, tabs and
# line breaks inside it. A link is judged on what a browser would follow.
AROUND = "".join(chr(code) for code in range(0x21))
INSIDE = re.compile(r"[\t\n\r]")


def is_tracking_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def web_url(url: str) -> str:
    """The link when it is an absolute http(s) URL with a host (as a browser reads it),
    else "": `javascript:`, `data:`, `file:` and the like never become a link."""
    cleaned = INSIDE.sub("", (url or "").strip(AROUND))
    try:
        parts = urlsplit(cleaned)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return ""
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return ""
    return cleaned


def without_tracking(url: str) -> str:
    """The URL without its tracking parameters and fragment; everything else (scheme, host
    with its `www.`, port, path, the other parameters in their order and spelling) is kept
    as written."""
    address = url.split("#", 1)[0]
    if "?" not in address:
        return address
    base, query = address.split("?", 1)
    kept = [
        pair
        for pair in query.split("&")
        if pair and not is_tracking_parameter(unquote_plus(pair.split("=", 1)[0]))
    ]
    return f"{base}?{'&'.join(kept)}" if kept else base


def web_link(url: str) -> str:
    """A URL fit for an `href` and for exports: http(s) only (else ""), without tracking
    parameters or fragment."""
    return without_tracking(web_url(url))


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no `www.`/`m.` variants, no default port, no fragment, no
    tracking parameters, remaining parameters sorted; `http` and `https` kept apart only in
    the scheme (the caller compares canonical forms)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower().rstrip(".")
    for prefix in HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    port = parts.port
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    query = urlencode(
        sorted(
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not is_tracking_parameter(key)
        )
    )
    path = parts.path or "/"
    if path != "/" and path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, query, ""))


@lru_cache(maxsize=4096)  # each comparison asks for both URLs' forms
def comparable_url(url: str) -> str:
    """The canonical URL without its scheme: `http://` and `https://` copies are the same."""
    return canonical_url(url).split("://", 1)[-1]
