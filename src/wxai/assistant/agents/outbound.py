"""Outbound HTTP to allow-listed services only: a guard against server-side request forgery.

Every request made with :func:`~wxai.assistant.agents.outbound_http.post_json`,
and every redirect it follows, first passes :func:`check_url`: http(s) only, no
user info, a normalised host that is on the policy's allow-list with its port,
no IPv4 literal in a form only C resolvers read, no cloud metadata name; then
the host is resolved once and each address it resolves to must be public
(loopback, private, link-local, multicast, reserved, unspecified, metadata and
IPv4-embedding IPv6 addresses are refused) unless it lies in a network the
policy allow-lists explicitly. The connection goes to the first checked
address, never to a second lookup (so DNS rebinding cannot swap it), with the
original name as ``Host`` header and TLS server name.

A refusal raises :class:`OutboundRefused` (an
:class:`~wxai.core.errors.OutboundBlocked`) naming its ``rule``, before any
connection. The DNS lookup (``resolve``) can be injected. The rules, with the
tricks they stop: ``docs/external-functions.md``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wxai.core.errors import ConfigError, OutboundBlocked, WxaiError

__all__ = [
    "HostRule",
    "OutboundFailed",
    "OutboundPolicy",
    "OutboundRefused",
    "ResolvedTarget",
    "Resolver",
    "address_problem",
    "check_url",
    "normalise_host",
    "parse_host_rule",
    "parse_ipv4_like_c",
    "system_resolver",
]

#: ``resolve(host, port)`` -> the IP addresses ``host`` resolves to, as text.
Resolver = Callable[[str, int], Sequence[str]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_URL = 2048
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_ENDS_IN_NUMBER = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_HEX = re.compile(r"^[0-9a-f]+$")
_OCT = re.compile(r"^[0-7]+$")
_DEC = re.compile(r"^[0-9]+$")

#: Host names of cloud instance-metadata services (refused even if allow-listed).
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.goog",
        "metadata.google.internal",
        "metadata.azure.com",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
    }
)

#: Addresses of cloud metadata and host-agent endpoints (some of them are public).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, ...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server (a public address)
    )
)

# IPv6 ranges that carry an IPv4 address inside them
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


class OutboundRefused(OutboundBlocked):
    """A request refused by the outbound policy, before any connection.

    ``rule`` names the rule that refused it (``"host-not-allowed"``,
    ``"loopback-address"``, ...; the list is in ``docs/external-functions.md``).
    """

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(f"{message} [{rule}]")


class OutboundFailed(WxaiError, ConnectionError):
    """An allowed request failed on the way: timeout, connection refused, broken answer.

    ``reason`` is ``"timeout"`` or ``"connection"``.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class HostRule:
    """One allow-list entry: an exact host and optionally a port (``None``: the default port)."""

    host: str
    port: int | None = None

    def allows(self, host: str, port: int, scheme: str) -> bool:
        if host != self.host:
            return False
        return port == (self.port if self.port is not None else _DEFAULT_PORTS[scheme])

    def __str__(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port is None else f"{shown}:{self.port}"


@dataclass(frozen=True)
class OutboundPolicy:
    """What outbound requests may reach, and how much they may take.

    Parameters
    ----------
    allowed_hosts:
        Exact hosts, each ``"name"`` or ``"name:port"`` (IPv6 as ``"[::1]:8080"``);
        without a port only the scheme's default port (80, 443) is allowed.
    allowed_networks:
        Networks (CIDR, e.g. ``"10.20.0.0/16"``, ``"127.0.0.1/32"``) whose
        addresses are allowed although they are private, loopback or otherwise
        refused: on-premises services. At least ``/8`` (IPv4) or ``/16`` (IPv6).
    max_redirects:
        Redirects followed per request (each hop checked again); more is refused.
    timeout_s:
        Limit for the whole exchange (connect, send, all hops, reading the body).
    max_response_bytes:
        Largest response body read; a longer one is refused.

    Raises
    ------
    ConfigError
        An entry cannot be parsed, a network is too broad, or a limit is out of range.
    """

    allowed_hosts: tuple[str, ...] = ()
    allowed_networks: tuple[str, ...] = ()
    max_redirects: int = 3
    timeout_s: float = 10.0
    max_response_bytes: int = 1_000_000
    rules: tuple[HostRule, ...] = field(init=False, repr=False, compare=False)
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if isinstance(self.allowed_hosts, str) or isinstance(self.allowed_networks, str):
            raise ConfigError("allowed_hosts and allowed_networks must be lists, not one string")
        object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts))
        object.__setattr__(self, "allowed_networks", tuple(self.allowed_networks))
        object.__setattr__(self, "rules", tuple(parse_host_rule(h) for h in self.allowed_hosts))
        object.__setattr__(
            self, "networks", tuple(_parse_network(n) for n in self.allowed_networks)
        )
        if not 0 <= self.max_redirects <= 10:
            raise ConfigError(f"max_redirects must be 0..10, got {self.max_redirects}")
        if not 0 < self.timeout_s <= 300:
            raise ConfigError(f"timeout_s must be in (0, 300] seconds, got {self.timeout_s}")
        if not 0 < self.max_response_bytes <= 100_000_000:
            raise ConfigError(
                f"max_response_bytes must be 1..100000000, got {self.max_response_bytes}"
            )


def _parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        network = ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        raise ConfigError(
            f"allowed network {text!r} is not a network; write it in CIDR form, "
            "e.g. '10.20.0.0/16' or '127.0.0.1/32'"
        ) from None
    shortest = 8 if network.version == 4 else 16
    if network.prefixlen < shortest:
        raise ConfigError(
            f"allowed network {text!r} is too broad (/{network.prefixlen}); allow-list "
            f"the service's own network, /{shortest} or narrower"
        )
    return network


def normalise_host(host: str) -> str:
    """``host`` in the form the allow-list compares: lower case, no trailing dot, IDNA ASCII.

    IPv6 literals (with or without brackets) come back compressed, without brackets.

    Raises
    ------
    OutboundRefused
        ``malformed-url``: the host is empty or not a valid host name.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            raise OutboundRefused(
                "malformed-url", f"host {host!r} is not an IPv6 address"
            ) from None
    text = text.lower()
    if text.endswith("."):
        text = text[:-1]
    try:
        ascii_host = text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise OutboundRefused("malformed-url", f"host {host!r} is not a valid host name") from None
    labels = ascii_host.split(".")
    if not ascii_host or len(ascii_host) > 253 or not all(_LABEL.match(lb) for lb in labels):
        raise OutboundRefused(
            "malformed-url",
            f"host {host!r} is not a valid host name (letters, digits, '-', '.' only)",
        )
    return ascii_host


def parse_host_rule(text: str) -> HostRule:
    """An allow-list entry ``"host"``, ``"host:port"`` or ``"[v6]:port"`` as a :class:`HostRule`.

    Raises
    ------
    ConfigError
        Not a plain host (a URL, a path, user info), or a bad port.
    """
    raw = str(text).strip()
    if not raw or any(c in raw for c in "/@\\?#% \t"):
        raise ConfigError(
            f"allowed host {text!r} must be a bare host or host:port, e.g. "
            "'api.example.org' or 'roads.internal:8080' (no scheme, path or user)"
        )
    port: int | None = None
    host = raw
    if raw.startswith("["):
        end = raw.find("]")
        host, rest = raw[: end + 1], raw[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            raise ConfigError(f"allowed host {text!r}: write IPv6 hosts as '[::1]' or '[::1]:8080'")
        port_text = rest[1:] if rest else None
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    elif ":" in raw:
        raise ConfigError(f"allowed host {text!r}: write IPv6 hosts in brackets, '[::1]:8080'")
    else:
        port_text = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"allowed host {text!r}: the port must be 1..65535")
        port = int(port_text)
    try:
        name = normalise_host(host)
    except OutboundRefused as exc:
        raise ConfigError(f"allowed host {text!r}: {exc}") from None
    if _ENDS_IN_NUMBER.match(name.rsplit(".", 1)[-1]) and _canonical_ipv4(name) is None:
        raise ConfigError(f"allowed host {text!r}: write IPv4 addresses as a.b.c.d")
    return HostRule(name, port)


def parse_ipv4_like_c(text: str) -> ipaddress.IPv4Address | None:
    """``text`` read as an IPv4 address the way ``inet_aton`` reads it, or ``None``.

    One to four parts separated by dots; each decimal, octal (leading ``0``) or
    hexadecimal (``0x``); the last part fills the remaining bytes, so
    ``2130706433``, ``0177.0.0.1``, ``0x7f.0.0.1`` and ``127.1`` all give
    ``127.0.0.1``.
    """
    parts = text.lower().split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if part.startswith("0x"):
            digits, base, pattern = part[2:], 16, _HEX
        elif len(part) > 1 and part.startswith("0"):
            digits, base, pattern = part[1:], 8, _OCT
        else:
            digits, base, pattern = part, 10, _DEC
        if not pattern.match(digits):
            return None
        values.append(int(digits, base))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for i, value in enumerate(head):
        number += value << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def _canonical_ipv4(host: str) -> ipaddress.IPv4Address | None:
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return None
    return address if str(address) == host else None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> str | None:
    """How ``address`` carries an IPv4 address, or ``None``."""
    if address.ipv4_mapped is not None:
        return f"IPv4-mapped ({address.ipv4_mapped})"
    if any(address in net for net in _NAT64):
        return f"NAT64 ({ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)})"
    if address.sixtofour is not None:
        return f"6to4 ({address.sixtofour})"
    if address.teredo is not None:
        return f"Teredo ({address.teredo[1]})"
    if address in _V4_COMPATIBLE and int(address) > 1:
        return f"IPv4-compatible ({ipaddress.IPv4Address(int(address))})"
    return None


def address_problem(address: str, policy: OutboundPolicy) -> tuple[str, str] | None:
    """Why ``address`` may not be connected to, as ``(rule, reason)``; ``None`` if it may.

    An address inside one of the policy's ``allowed_networks`` is always allowed.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "malformed-address", f"{address!r} is not an IP address"
    if any(ip.version == net.version and ip in net for net in policy.networks):
        return None
    if ip in METADATA_ADDRESSES:
        return "metadata-address", f"{ip} is a cloud metadata endpoint"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded:
            return "embedded-ipv4", f"{ip} embeds an IPv4 address: {embedded}"
    checks = (
        ("unspecified-address", ip.is_unspecified, "the unspecified address"),
        ("loopback-address", ip.is_loopback, "a loopback address"),
        ("link-local-address", ip.is_link_local, "a link-local address"),
        ("multicast-address", ip.is_multicast, "a multicast address"),
        ("private-address", ip.is_private, "a private address"),
        ("reserved-address", ip.is_reserved or not ip.is_global, "not a public address"),
    )
    for rule, hit, what in checks:
        if hit:
            return rule, f"{ip} is {what}"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system resolves ``host`` to, in its order, no repeats."""
    seen: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        text = str(sockaddr[0])
        if text not in seen:
            seen.append(text)
    return seen


@dataclass(frozen=True)
class ResolvedTarget:
    """A checked URL and the address the connection must go to.

    Attributes
    ----------
    url:
        The URL with its normalised host (the base for relative redirects).
    scheme, host, port:
        Normalised parts; ``host`` is an IPv6 literal without brackets.
    target:
        Path and query (``"/"`` when empty); the fragment is dropped.
    address:
        The checked IP address connected to (the first one resolved).
    addresses:
        Every address the host resolved to; all of them passed the checks.
    """

    url: str
    scheme: str
    host: str
    port: int
    target: str
    address: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the original name, with the port when not the default."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port == _DEFAULT_PORTS[self.scheme] else f"{shown}:{self.port}"

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the name (what is connected to)."""
        shown = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{shown}:{self.port}{self.target}"


def _split(url: str) -> tuple[str, str, int, str]:
    """Scheme, normalised host, port and path+query of ``url``, or a refusal."""
    if not isinstance(url, str) or not url:
        raise OutboundRefused("malformed-url", f"URL must be a non-empty string, got {url!r}")
    if len(url) > _MAX_URL:
        raise OutboundRefused("malformed-url", f"URL longer than {_MAX_URL} characters")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url) or "\\" in url:
        raise OutboundRefused(
            "malformed-url",
            f"URL {url!r} contains whitespace, control characters or backslashes; write it plainly",
        )
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - raises on a malformed IPv6 host
    except ValueError as exc:
        raise OutboundRefused("malformed-url", f"URL {url!r} cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise OutboundRefused(
            "scheme", f"scheme {parts.scheme or '(none)'!r} of {url!r} is not allowed; use http(s)"
        )
    netloc = parts.netloc
    if "@" in netloc:
        raise OutboundRefused(
            "userinfo", f"URL {url!r} carries a user name or password (user@host); remove it"
        )
    raw_host = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
    if not raw_host or not parts.hostname:
        raise OutboundRefused("malformed-url", f"URL {url!r} has no host")
    if "%" in netloc:
        raise OutboundRefused(
            "malformed-url", f"host of {url!r} is percent-encoded or has an IPv6 zone; not allowed"
        )
    if netloc.startswith("[") != raw_host.endswith("]"):
        raise OutboundRefused("malformed-url", f"URL {url!r} has unbalanced brackets")
    try:
        port = parts.port
    except ValueError:
        raise OutboundRefused("malformed-url", f"URL {url!r} has an invalid port") from None
    if port == 0:
        raise OutboundRefused("malformed-url", f"URL {url!r} has port 0")
    host = normalise_host(raw_host)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme], target


def _check_name(host: str, port: int, scheme: str, policy: OutboundPolicy) -> bool:
    """Check ``host`` against the literal and allow-list rules; ``True`` if an IP literal."""
    literal = ":" in host
    if not literal and _ENDS_IN_NUMBER.match(host.rsplit(".", 1)[-1]):
        if _canonical_ipv4(host) is None:
            decoded = parse_ipv4_like_c(host)
            if decoded is None:
                raise OutboundRefused("malformed-url", f"host {host!r} is a malformed IPv4 address")
            raise OutboundRefused(
                "non-canonical-ip",
                f"host {host!r} is the IPv4 address {decoded} in a non-canonical form; "
                "numeric hosts must be written a.b.c.d",
            )
        literal = True
    if host in METADATA_HOSTS:
        raise OutboundRefused("metadata-host", f"{host!r} is a cloud metadata service")
    same_host = [r for r in policy.rules if r.host == host]
    if not same_host:
        raise OutboundRefused(
            "host-not-allowed",
            f"host {host!r} is not on the allow-list; an operator must add it to allowed_hosts",
        )
    if not any(r.allows(host, port, scheme) for r in same_host):
        allowed = ", ".join(str(r) for r in same_host)
        raise OutboundRefused(
            "port-not-allowed",
            f"port {port} of {host!r} is not allowed (allow-listed: {allowed})",
        )
    return literal


def check_url(
    url: str, policy: OutboundPolicy, *, resolve: Resolver | None = system_resolver
) -> ResolvedTarget:
    """Check ``url`` against ``policy`` and resolve its host once.

    Parameters
    ----------
    url:
        An absolute ``http`` or ``https`` URL.
    policy:
        The allow-list and limits.
    resolve:
        DNS lookup; ``None`` checks everything that needs no lookup (a
        configuration check) and leaves ``address`` empty for names.

    Returns
    -------
    ResolvedTarget
        The normalised URL and the checked address to connect to.

    Raises
    ------
    OutboundRefused
        A rule refused the URL or one of the addresses; ``rule`` says which.
    """
    scheme, host, port, target = _split(url)
    literal = _check_name(host, port, scheme, policy)
    if literal:
        addresses: Sequence[str] = [host]
    elif resolve is None:
        addresses = []
    else:
        try:
            addresses = [str(a) for a in resolve(host, port)]
        except (OSError, UnicodeError) as exc:
            raise OutboundRefused("dns", f"cannot resolve {host!r}: {exc}") from None
        if not addresses:
            raise OutboundRefused("dns", f"{host!r} resolved to no address")
    for address in addresses:
        problem = address_problem(address, policy)
        if problem:
            rule, reason = problem
            via = "" if literal else f"{host!r} resolves to {address}: "
            raise OutboundRefused(
                rule,
                f"{via}{reason}; refused unless an operator allow-lists its network "
                "in allowed_networks",
            )
    shown = f"[{host}]" if ":" in host else host
    default = port == _DEFAULT_PORTS[scheme]
    normal = f"{scheme}://{shown}{'' if default else f':{port}'}{target}"
    first = str(ipaddress.ip_address(addresses[0].split("%", 1)[0])) if addresses else ""
    return ResolvedTarget(normal, scheme, host, port, target, first, tuple(addresses))
