"""A small load tool for the survey form: HTTP/1.1 keep-alive connections on asyncio.

Run by ``bench_responses.py`` in its own process (so it does not share the server's
interpreter). Open loop: request ``i`` is due at ``start + i / rate`` whatever happened
to the ones before, and its latency is counted from that moment (a request that waits
for a free connection counts the wait), so a slow server cannot hide its queue.
``--rate 0`` is closed loop instead: every connection sends again as soon as it gets
its answer (the most the server takes).

    python bench/response_load.py --url http://127.0.0.1:8000/s/TOKEN --rate 500 \
        --seconds 10 --prefix step1

Prints one JSON object: sent, statuses, errors, seconds, latencies (ms) and the
submission keys that were answered 200.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

TIMEOUT = 10.0
COMMENTS = ["等太久了，希望改善", "店員很親切", "App 常常閃退", "Great service"]


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    ok_keys: set[str] = field(default_factory=set)


def submission(prefix: str, index: int, repeat_every: int) -> tuple[str, bytes]:
    """The key and form body of request ``index``; every ``repeat_every``-th one
    resends the previous key (a retry), which must store nothing new."""
    again = repeat_every and index and index % repeat_every == 0
    key = f"{prefix}{(index - 1 if again else index):010d}"
    nps = index % 11
    fields = [("_submission_key", key), ("nps", str(nps)), ("csat", str(1 + index % 5))]
    if nps <= 6:
        fields.append(("improve", COMMENTS[index % len(COMMENTS)]))
    return key, "&".join(f"{k}={quote(v)}" for k, v in fields).encode()


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port
            )
        self.writer.write(head + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header.split(b" ", 2)[1])
        length = 0
        for line in header.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    def drop(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def request_head(url: str, body: bytes, method: str) -> bytes:
    parts = urlsplit(url)
    lines = [f"{method} {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1",
             f"Host: {parts.netloc}", "Accept-Language: zh-TW",
             "Content-Type: application/x-www-form-urlencoded",
             f"Content-Length: {len(body)}"]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _one(
    pool: asyncio.Queue[Connection], url: str, method: str, index: int,
    args: argparse.Namespace, due: float, tally: Tally,
) -> None:  # fmt: skip
    key, body = submission(args.prefix, index, args.repeat_every)
    body = body if method == "POST" else b""
    connection = await pool.get()
    try:
        status = await asyncio.wait_for(
            connection.request(request_head(url, body, method), body), TIMEOUT
        )
        tally.statuses[status] += 1
        if status == 200:
            tally.ok_keys.add(key)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        tally.errors += 1
        connection.drop()
    finally:
        pool.put_nowait(connection)
    tally.latencies.append(time.perf_counter() - due)


async def open_loop(args: argparse.Namespace, pool: asyncio.Queue[Connection],
                    tally: Tally) -> int:  # fmt: skip
    total = int(args.rate * args.seconds)
    start = time.perf_counter() + 0.05
    tasks = []
    for index in range(total):
        due = start + index / args.rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(
            _one(pool, args.url, args.method, index, args, due, tally)))  # fmt: skip
    await asyncio.gather(*tasks)
    return total


async def closed_loop(args: argparse.Namespace, pool: asyncio.Queue[Connection],
                      tally: Tally) -> int:  # fmt: skip
    end = time.perf_counter() + args.seconds
    counter = iter(range(10**9))

    async def worker() -> None:
        while time.perf_counter() < end:
            await _one(pool, args.url, args.method, next(counter), args,
                       time.perf_counter(), tally)  # fmt: skip

    await asyncio.gather(*(worker() for _ in range(args.connections)))
    return next(counter)


async def main(args: argparse.Namespace) -> dict[str, object]:
    parts = urlsplit(args.url)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(args.connections):
        pool.put_nowait(Connection(parts.hostname or "127.0.0.1", parts.port or 80))
    tally = Tally()
    began = time.perf_counter()
    run = open_loop if args.rate > 0 else closed_loop
    sent = await run(args, pool, tally)
    seconds = time.perf_counter() - began
    while not pool.empty():
        pool.get_nowait().drop()
    return {"sent": sent, "seconds": seconds, "errors": tally.errors,
            "statuses": dict(tally.statuses),
            "latencies_ms": [round(x * 1000, 3) for x in tally.latencies],
            "ok_keys": sorted(tally.ok_keys)}  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--prefix", default="bench-key-")
    parser.add_argument("--repeat-every", type=int, default=50)
    parser.add_argument("--method", default="POST")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
