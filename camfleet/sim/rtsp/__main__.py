"""``python -m camfleet.sim.rtsp``: one simulated camera's RTSP server, for trying clients by hand.

.venv/bin/python -m camfleet.sim.rtsp --host 127.0.0.9 --port 8554 --style dahua &
ffprobe -rtsp_transport tcp -show_streams 'rtsp://admin:Passw0rd-1@127.0.0.9:8554/cam/realmonitor?channel=1&subtype=1'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from camfleet.sim.faults import Faults
from camfleet.sim.media import StreamSpec, clip_for
from camfleet.sim.rtsp.resolvers import dahua_resolver, hikvision_resolver
from camfleet.sim.rtsp.server import RtspServer


async def _serve_forever(args: argparse.Namespace) -> None:
    main = StreamSpec("h264", 1280, 720, 15, 30, 1024)
    sub = StreamSpec("h264", 640, 360, 10, 20, 256)
    resolve = dahua_resolver(main, sub) if args.style == "dahua" else hikvision_resolver(main, sub)
    for spec in (main, sub):
        await asyncio.to_thread(clip_for, spec)
    server = RtspServer(
        args.host, args.port, "1868cb21d4df", lambda: {args.user: args.password}, resolve, Faults(), style=args.style
    )
    await server.start()
    print(f"rtsp://{args.user}:{args.password}@{args.host}:{server.port}/", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="One simulated camera's RTSP server, for trying clients by hand.")
    parser.add_argument("--host", default="127.0.0.9")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--style", choices=["hikvision", "dahua"], default="hikvision")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="Passw0rd-1")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(parser.parse_args()))


if __name__ == "__main__":
    main()
