"""Test-only network guard, loaded by every Python process that has this folder on
PYTHONPATH (Python imports ``sitecustomize`` at start-up).

Any connection, datagram or name lookup beyond this machine is refused and recorded, one
line per attempt, in ``$BRIEFING_NET_LOG`` (with the calling frames). Each process that
loads the guard adds its pid and command line to ``$BRIEFING_NET_ARMED``, so a test can
check the guard really was active in the processes it ran.
"""

import ipaddress
import os
import socket
import sys
import traceback

_LOG = os.environ.get("BRIEFING_NET_LOG", "")
_ARMED = os.environ.get("BRIEFING_NET_ARMED", "")
_LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "0.0.0.0", "::",
                socket.gethostname().lower()}


def _is_local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).split("%")[0].strip("[]").lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or ip.is_unspecified or bool(mapped and mapped.is_loopback)


def _record(kind: str, target) -> None:
    frames = traceback.extract_stack()[:-2][-6:]
    where = " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno}:{f.name}" for f in reversed(frames))
    line = f"pid {os.getpid()} {kind} {target!r} at {where}\n"
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(line)


def _check_address(kind: str, address) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_local(host):
        _record(kind, address)
        raise ConnectionRefusedError(f"network access blocked by the test guard: {address!r}")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto
_getaddrinfo = socket.getaddrinfo
_gethostbyname = socket.gethostbyname
_gethostbyname_ex = socket.gethostbyname_ex


def connect(self, address):
    _check_address("connect", address)
    return _connect(self, address)


def connect_ex(self, address):
    _check_address("connect", address)
    return _connect_ex(self, address)


def sendto(self, data, *args):
    _check_address("sendto", args[-1])
    return _sendto(self, data, *args)


def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        _record("getaddrinfo", host)
        raise socket.gaierror(socket.EAI_NONAME, f"name lookup blocked by the test guard: {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


def gethostbyname(host):
    if not _is_local(host):
        _record("gethostbyname", host)
        raise socket.gaierror(socket.EAI_NONAME, f"name lookup blocked by the test guard: {host!r}")
    return _gethostbyname(host)


def gethostbyname_ex(host):
    if not _is_local(host):
        _record("gethostbyname_ex", host)
        raise socket.gaierror(socket.EAI_NONAME, f"name lookup blocked by the test guard: {host!r}")
    return _gethostbyname_ex(host)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.socket.sendto = sendto
socket.getaddrinfo = getaddrinfo
socket.gethostbyname = gethostbyname
socket.gethostbyname_ex = gethostbyname_ex

if _ARMED:
    with open(_ARMED, "a", encoding="utf-8") as f:
        f.write(f"{os.getpid()} {' '.join(sys.argv)}\n")
