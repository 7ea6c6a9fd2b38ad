"""What a board entry may ask of the ``ssh`` client: the allow-list of ``-o`` options and the
syntax of hosts, users and ProxyJump hops.

A boards.toml may come from somewhere the user does not control (a cloned repository), so it
must not be able to make ``ssh`` run anything on this machine. OpenSSH runs local commands for
``ProxyCommand``, ``LocalCommand`` (with ``PermitLocalCommand``), ``KnownHostsCommand`` and
``Match exec``, loads libraries for ``PKCS11Provider``/``SecurityKeyProvider``, and reads more
such settings from ``Include`` and ``-F`` files. Rather than refuse a list of dangerous options
(OpenSSH adds new ones), only the options below pass, each with a checked value; a setting that
has its own boards.toml key (port, user, key, host key policy, ProxyJump) must use that key, so
that each setting is given once. docs/boards.md ("Security") explains the list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

_YES_NO = ("yes", "no")
_ALGORITHMS = re.compile(r"[+^-]?[A-Za-z0-9@._*-]+(?:,[A-Za-z0-9@._*-]+)*")
#: A host name, address or ~/.ssh/config alias: no leading '-', no spaces, no shell characters.
_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,252})")
_IPV6 = re.compile(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[A-Za-z0-9_.-]+)?")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _choice(*allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value.lower() not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return value.lower()
    return check


def _int_range(low: int, high: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not re.fullmatch(r"\d{1,6}", value) or not low <= int(value) <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return str(int(value))
    return check


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"expected {what}")
        return value
    return check


_ALGORITHM_LIST = _pattern(_ALGORITHMS, "a comma-separated list of algorithm names")

#: The ``-o`` options a boards.toml may set, by canonical name, with the check of their value.
#: None of them runs a command, opens a port, loads a library or forwards credentials.
SAFE_SSH_OPTIONS: dict[str, Callable[[str], str]] = {
    "ServerAliveInterval": _int_range(1, 3600),
    "ServerAliveCountMax": _int_range(1, 100),
    "TCPKeepAlive": _choice(*_YES_NO),
    "Compression": _choice(*_YES_NO),
    "IdentitiesOnly": _choice(*_YES_NO),
    "CheckHostIP": _choice(*_YES_NO),
    "AddressFamily": _choice("any", "inet", "inet6"),
    "Ciphers": _ALGORITHM_LIST,
    "MACs": _ALGORITHM_LIST,
    "KexAlgorithms": _ALGORITHM_LIST,
    "HostKeyAlgorithms": _ALGORITHM_LIST,
    "PubkeyAcceptedAlgorithms": _ALGORITHM_LIST,
    "PubkeyAcceptedKeyTypes": _ALGORITHM_LIST,  # the name before OpenSSH 8.5
}
#: Settings that have a boards.toml key of their own (one way to give each setting).
OWN_KEYS = {
    "stricthostkeychecking": "host_key_checking",
    "userknownhostsfile": "known_hosts",
    "connecttimeout": "connect_timeout_s",
    "identityfile": "key_file",
    "port": "port",
    "user": "user",
    "hostname": "host",
    "proxyjump": "proxy_jump",
}
#: Refused with a reason of their own: they run commands, load code, open ports or leak secrets.
DANGEROUS = {
    "proxycommand": "runs a local command", "localcommand": "runs a local command",
    "permitlocalcommand": "enables LocalCommand", "knownhostscommand": "runs a local command",
    "match": "can run a local command (Match exec)", "include": "reads more ssh settings from a file",
    "pkcs11provider": "loads a library", "securitykeyprovider": "loads a library",
    "remotecommand": "replaces the command zoo-bench runs", "proxyusefdpass": "belongs to ProxyCommand",
    "forwardagent": "hands the board your ssh agent", "forwardx11": "opens your display to the board",
    "forwardx11trusted": "opens your display to the board", "localforward": "opens a port",
    "remoteforward": "opens a port", "dynamicforward": "opens a port", "tunnel": "opens a tunnel device",
    "controlmaster": "shares connections through a socket", "controlpath": "names a socket",
    "controlpersist": "leaves a background ssh running", "sendenv": "sends your environment",
    "setenv": "sets the board's environment", "identityagent": "names an agent socket",
    "batchmode": "zoo-bench always sets BatchMode=yes", "loglevel": "zoo-bench sets it",
}
_CANONICAL = {name.lower(): name for name in SAFE_SSH_OPTIONS}


def parse_ssh_option(text: str) -> tuple[str, str]:
    """``"Key=value"`` as ``(CanonicalKey, checked value)``. Raises :class:`ValueError` with the
    reason for anything not on :data:`SAFE_SSH_OPTIONS`."""
    if not isinstance(text, str) or "=" not in text:
        raise ValueError(f"{text!r} is not a \"Key=value\" string")
    key, _, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not _KEY.fullmatch(key):
        raise ValueError(f"{text!r}: {key!r} is not an ssh option name")
    lower = key.lower()
    if lower in OWN_KEYS:
        raise ValueError(f"{key} has a key of its own in boards.toml: use {OWN_KEYS[lower]} = ...")
    if lower in DANGEROUS:
        raise ValueError(f"{key} is never allowed: it {DANGEROUS[lower]}")
    if lower not in _CANONICAL:
        raise ValueError(f"{key} is not on the list of ssh options zoo-bench allows "
                         f"({', '.join(SAFE_SSH_OPTIONS)}; see docs/boards.md, Security)")
    canonical = _CANONICAL[lower]
    try:
        return canonical, SAFE_SSH_OPTIONS[canonical](value)
    except ValueError as exc:
        raise ValueError(f"{canonical}={value!r}: {exc}") from None


def parse_ssh_options(items: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Every option of a list, checked; a key given twice is refused (ssh would keep the first)."""
    parsed: dict[str, str] = {}
    for item in items:
        key, value = parse_ssh_option(item)
        if key in parsed:
            raise ValueError(f"{key} is given twice")
        parsed[key] = value
    return tuple(parsed.items())


def check_host(host: str) -> str:
    """``host`` if it is a host name, ~/.ssh/config alias, IPv4 or IPv6 address; else ValueError."""
    if isinstance(host, str) and (_HOST.fullmatch(host) or _IPV6.fullmatch(host)):
        return host
    raise ValueError(f"invalid SSH host {host!r} (a host name, alias or address; no leading '-', "
                     "spaces or shell characters)")


def check_user(user: str) -> str:
    """``user`` if it is a plain login name; else ValueError."""
    if isinstance(user, str) and _USER.fullmatch(user):
        return user
    raise ValueError(f"invalid SSH user {user!r} (letters, digits, '.', '_', '-'; no leading '-')")


def check_port(port: object, what: str = "port") -> int:
    """A TCP port number 1..65535."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"{what} must be a whole number from 1 to 65535, not {port!r}")
    return port


def check_proxy_jump(value: str) -> str:
    """A ``ProxyJump`` value: ``none`` or comma-separated ``[user@]host[:port]`` hops, where an
    IPv6 host is written ``[addr]``. Returns it unchanged; raises ValueError naming the bad hop."""
    if not isinstance(value, str) or not value:
        raise ValueError("proxy_jump must be a string like \"user@gateway:22\"")
    if value == "none":
        return value
    for hop in value.split(","):
        user, at, rest = hop.rpartition("@")
        if at:
            check_user(user)
        host, port = rest, None
        if rest.startswith("["):
            addr, bracket, tail = rest[1:].partition("]")
            if not bracket or not _IPV6.fullmatch(addr) or (tail and not tail.startswith(":")):
                raise ValueError(f"proxy_jump hop {hop!r}: bad [IPv6] address")
            host, port = addr, tail[1:] or None
        elif ":" in rest:
            host, _, port = rest.rpartition(":")
        if not rest.startswith("["):
            check_host(host)
        if port is not None:
            if not port.isdigit():
                raise ValueError(f"proxy_jump hop {hop!r}: bad port {port!r}")
            check_port(int(port), f"proxy_jump hop {hop!r}: port")
    return value


def check_seconds(value: object, what: str, low_exclusive: float = 0.0, high: float = 3600.0) -> float:
    """A finite number of seconds in (low_exclusive, high]; rejects booleans, inf and nan."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low_exclusive < value <= high:
        raise ValueError(f"{what} must be a finite number of seconds > {low_exclusive:g} and <= {high:g}, "
                         f"not {value!r}")
    return float(value)


def check_retries(value: object, high: int = 5) -> int:
    """Extra attempts: a whole number 0..high."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ValueError(f"retries must be a whole number from 0 to {high}, not {value!r}")
    return value
