"""Where one contender's time goes: ``python -m benchmarks.hotspots NAME [call|stream|burst]``.

Runs the contender against the loopback server under pyinstrument (from the ``bench``
extra) and prints its call tree, e.g.::

    python -m benchmarks.hotspots "minimax_m3 Transport" stream
    python -m benchmarks.hotspots ChatMiniMaxM3 call

Names are those of ``benchmarks.contenders.BUILDERS``.
"""

from __future__ import annotations

import argparse
import asyncio

from pyinstrument import Profiler

from benchmarks.contenders import BUILDERS
from benchmarks.run import BURST, STREAM_CHUNKS
from benchmarks.server import ServerProcess

REPEATS = {"call": 2000, "stream": 10, "burst": 10}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(BUILDERS))
    parser.add_argument("measure", nargs="?", default="call", choices=sorted(REPEATS))
    options = parser.parse_args()
    repeats = REPEATS[options.measure]
    with ServerProcess() as root:
        if options.measure == "stream":
            contender = BUILDERS[options.name](f"{root}/sse/{STREAM_CHUNKS}", STREAM_CHUNKS, 0)
        else:
            contender = BUILDERS[options.name](f"{root}/json", 0, 0)
        loop = asyncio.new_event_loop()

        async def burst() -> None:
            await asyncio.gather(*(contender.acall() for _ in range(BURST)))

        def once() -> None:
            if options.measure == "call":
                contender.call()
            elif options.measure == "stream":
                contender.stream()
            else:
                loop.run_until_complete(burst())

        for _ in range(min(repeats, 20)):
            once()
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(repeats):
                once()
        loop.close()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
