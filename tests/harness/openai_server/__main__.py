"""Run the fake OpenAI server as its own process (for end-to-end tests that want it out of process).

    python -m tests.harness.openai_server --port 0 --script script.json [--api-key sk-test] [--any-model]

Prints ``READY <base_url>`` on stdout once it accepts connections, then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .server import OpenAIServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.harness.openai_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (see the READY line)")
    parser.add_argument("--script", type=Path, help="JSON script, see OpenAIServer.apply_script")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--any-model", action="store_true", help="answer any model id instead of 404")
    args = parser.parse_args(argv)

    server = OpenAIServer(api_key=args.api_key, accept_any_model=args.any_model, host=args.host, port=args.port)
    if args.script:
        server.apply_script(json.loads(args.script.read_text()))
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    server.start()
    print(f"READY {server.base_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
