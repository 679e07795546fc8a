"""The parsing worker: `python -m ingest.worker MEMORY_MB`, started and fed by `ingest.sandbox`.

It reads files one after another, each sent on stdin as a length-prefixed JSON header and the
file's bytes, and answers each on stdout with a length-prefixed JSON reply: the pages, or the
reader's refusal. The parent watches its resident memory (MEMORY_MB) and kills it when over;
as a backstop against allocations faster than that watch, its address space is capped at
what its code occupies plus four times MEMORY_MB.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import sys
from typing import IO, Any

from ingest.content import ReadOptions
from ingest.readers import read_bytes
from kb.errors import InputError

HEADER = struct.Struct(">I")  # every message: its length in 4 bytes, then JSON (then data)


def main(argv: list[str]) -> int:
    memory_mb = int(argv[1])
    # The protocol owns the original stdin/stdout; a library that prints must not corrupt it.
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    budget = memory_mb * 1024 * 1024
    backstop = _address_space() + 4 * budget
    resource.setrlimit(resource.RLIMIT_AS, (backstop, backstop))
    _send(replies, {"ready": True})
    while True:
        request = _receive(requests)
        if request is None:
            return 0
        header, data = request
        reply = _parse(header, data)
        del data
        # A heap grown by a big file stays grown: a fresh worker takes the next one.
        reply["retire"] = reply.get("kind") == "memory" or _resident() > budget // 2
        reply["peak_mb"] = _peak_rss_mb()
        _send(replies, reply)
        if reply["retire"]:
            return 0


def _parse(header: dict[str, Any], data: bytes) -> dict[str, Any]:
    name = str(header["name"])
    try:
        content = read_bytes(name, data, ReadOptions(**header["options"]))
    except InputError as exc:
        return {"ok": False, "kind": type(exc).__name__, "reason": exc.reason}
    except MemoryError:
        return {"ok": False, "kind": "memory"}
    except Exception as exc:  # noqa: BLE001 - hostile input may break a library anywhere
        return {"ok": False, "kind": "crash", "reason": f"{type(exc).__name__}: {exc}"[:500]}
    return {
        "ok": True,
        "title": content.title,
        "pages": [[page.number, page.text, page.ocr] for page in content.pages],
    }


def _receive(stream: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    prefix = stream.read(HEADER.size)
    if len(prefix) < HEADER.size:
        return None
    header = json.loads(stream.read(HEADER.unpack(prefix)[0]))
    data = stream.read(int(header["size"]))
    return header, data


def _send(stream: IO[bytes], reply: dict[str, Any]) -> None:
    body = json.dumps(reply, ensure_ascii=False).encode()
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _resident() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _peak_rss_mb() -> float:
    # Linux reports kilobytes; Tesseract runs as a child process, so count the children too.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


if __name__ == "__main__":
    sys.exit(main(sys.argv))
