"""`python -m bench [--smoke] [--only read,writes,...] [--backend sqlite|postgres|both]`: measure ticketdesk beside
its baselines in the same run, print a table and (except with --smoke) rewrite the generated part of
bench/RESULTS.md. Exits non-zero when anything failed (an HTTP error, a lost event, a server that did not
start). Only measures and prints: nothing here asserts on a time."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import analyzer, fanout, memory, read, search, startup, writes
from bench.config import FULL, SMOKE, Sizes, Store, store_for, temp_folder
from bench.load import raise_fd_limit
from bench.report import Row, table, write_results
from bench.servers import LOAD_CORE, SERVER_CORE, TWO_CORES, pin

MEASUREMENTS = ("read", "writes", "fanout", "memory", "search", "analyzer", "startup")
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds in all; RESULTS.md is left alone")
    parser.add_argument(
        "--only", default=",".join(MEASUREMENTS), help=f"comma-separated subset of {','.join(MEASUREMENTS)}"
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--subscriber-processes", type=int, help="processes holding the fan-out subscribers")
    parser.add_argument(
        "--results", type=Path, help="where to write the results (default bench/RESULTS.md; none with --smoke)"
    )
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(MEASUREMENTS)
    if unknown:
        parser.error(f"unknown measurement(s): {', '.join(sorted(unknown))}")
    return args


def _plan(
    only: list[str], stores: dict[str, Store], sizes: Sizes
) -> list[tuple[str, Callable[[], Awaitable[list[Row]]]]]:
    """(label, measurement) in run order; PostgreSQL-only ones are left out without it."""
    primary = stores.get("postgres") or stores["sqlite"]
    steps: list[tuple[str, Callable[[], Awaitable[list[Row]]]]] = []
    for name in (m for m in MEASUREMENTS if m in only):
        if name == "read":
            steps += [(f"read/{b}", functools.partial(read.measure, s, sizes)) for b, s in stores.items()]
        elif name in ("writes", "search") and "postgres" not in stores:
            continue
        elif name == "writes":
            steps.append(("writes/postgres", lambda: writes.measure(stores["postgres"], sizes)))
        elif name == "search":
            steps.append(("search/postgres", lambda: search.measure(sizes)))
        elif name == "analyzer":
            steps.append(("analyzer", lambda: analyzer.measure(sizes)))
        else:
            module = {"fanout": fanout, "memory": memory, "startup": startup}[name]
            steps.append((f"{name}/{primary.backend}", functools.partial(module.measure, primary, sizes)))
    return steps


async def _run(args: argparse.Namespace, sizes: Sizes) -> tuple[list[Row], list[str], bool]:
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    rows: list[Row] = []
    notes: list[str] = []
    failed = False
    with temp_folder() as folder:
        stores = {backend: await store_for(backend, Path(folder)) for backend in backends}
        for label, step in _plan(args.only.split(","), stores, sizes):
            start = time.monotonic()
            print(f"bench: {label} ...", file=sys.stderr, flush=True)
            try:
                rows += await step()
            except Exception:
                failed = True
                traceback.print_exc()
                notes.append(f"{label} FAILED (traceback on stderr)")
            notes.append(f"{label} took {time.monotonic() - start:.1f} s")
    return rows, notes, failed


def _setup_notes(sizes: Sizes) -> list[str]:
    if TWO_CORES:
        where = f"servers pinned to core {SERVER_CORE}, load generator and subscriber processes to core {LOAD_CORE}"
    else:
        where = "one core: servers and load share it (no pinning)"
    return [
        where,
        f"fan-out subscribers held by {sizes.subscriber_processes} process(es) on the load core; "
        "ticketdesk and baseline fan-out runs are sequential, the other measurements alternate A/B per round",
        "the 2-process fan-out row's baseline is the 1-process Starlette broadcast of the same N",
        "fan-out latency includes the load side reading N messages on its one core: the baseline's latency is "
        "close to that floor; server CPU is read from /proc in clock ticks (10 ms), so it is coarse below ~20 events",
    ]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sizes = SMOKE if args.smoke else FULL
    if args.subscriber_processes:
        sizes = dataclasses.replace(sizes, subscriber_processes=args.subscriber_processes)
    pin(LOAD_CORE)
    raise_fd_limit()
    started = time.monotonic()
    rows, notes, failed = asyncio.run(_run(args, sizes))
    notes = _setup_notes(sizes) + notes + [f"whole run took {time.monotonic() - started:.1f} s"]
    print(table(rows))
    for note in notes:
        print(f"- {note}")
    failed = failed or any(row.failed for row in rows)
    target = args.results or (None if args.smoke else RESULTS)
    if target is not None:
        command = "python -m bench" + (" " + " ".join(sys.argv[1:]) if len(sys.argv) > 1 else "")
        write_results(target, rows, notes, command)
        print(f"bench: wrote {target}", file=sys.stderr)
    if failed:
        print("bench: FAILED (see above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
