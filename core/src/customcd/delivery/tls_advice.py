"""What a TLS verification failure means and what to do, by its cause.

"Give its CA" is the fix for one cause only: a certificate signed by a CA the agent does not trust
(a company CA, a proxy that inspects TLS, a self-signed server). A certificate for another name, an
expired one or a revoked one is refused whatever CA is given, so the advice names the real fix.
OpenSSL's own words (``certificate verify failed: REASON``) are matched, as Python's ``ssl`` module
and httpx pass them on.
"""

from __future__ import annotations

__all__ = ["is_tls_verify_failure", "tls_advice"]

#: (words of OpenSSL's reason, lower case) -> what it means and what to do
_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("hostname mismatch", "ip address mismatch"),
        "the server's certificate is for another name than the host in CUSTOMCD_URL; use a name "
        "the certificate carries (often the canonical host name, not an IP address or alias) — a "
        "CA bundle does not help",
    ),
    (
        ("certificate has expired",),
        "the server's certificate has expired; its owner must renew it (if it looks valid, check "
        "this agent's clock) — a CA bundle does not help",
    ),
    (
        ("certificate is not yet valid",),
        "the server's certificate is not valid yet; check this agent's clock (or the server's "
        "certificate dates) — a CA bundle does not help",
    ),
    (
        ("certificate revoked",),
        "the server's certificate has been revoked; its owner must replace it — a CA bundle does "
        "not help",
    ),
    (
        (
            "unable to get local issuer certificate",
            "unable to get issuer certificate",
            "unable to verify the first certificate",
            "self-signed certificate",
            "self signed certificate",
        ),
        "the server's certificate is not trusted; give its CA with --ca-bundle (or SSL_CERT_FILE)",
    ),
)


def is_tls_verify_failure(text: str) -> bool:
    """Whether an error's text is a failed verification of the server's certificate."""
    return "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text.lower()


def tls_advice(text: str) -> str:
    """The one-line reason of a failed certificate verification, with the fix for its cause.

    :param text: the error's text (e.g. ``ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED]
        certificate verify failed: certificate has expired (_ssl.c:1006)``).
    """
    lowered = text.lower()
    for words, advice in _CAUSES:
        if any(word in lowered for word in words):
            return f"TLS certificate verification failed: {advice} — see docs/troubleshooting.md"
    marker = "certificate verify failed:"
    start = lowered.find(marker)
    detail = text[start + len(marker) :].split("(_ssl")[0].strip(" .") if start >= 0 else ""
    said = f" ({detail[:120]})" if detail else ""
    return (
        f"TLS certificate verification failed{said}: the server's certificate was refused — see "
        "docs/troubleshooting.md"
    )
