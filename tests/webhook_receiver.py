"""A receiving system on 127.0.0.1 for delivery tests: it verifies every signature with
the `standardwebhooks` package, as a real receiver would, and applies each `webhook-id`
once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    webhook_id: str
    body: dict[str, Any]
    received_at: float = field(default_factory=time.time)


@dataclass
class Receiver:
    secret: str = ""
    answer: int = 200  # what it answers (500: down for the test's purpose)
    received: list[Received] = field(default_factory=list)  # every valid request, in order
    applied: dict[str, Received] = field(default_factory=dict)  # once per webhook-id
    refused: int = 0  # requests whose signature did not verify
    server: ThreadingHTTPServer | None = None
    on_received: Callable[[Received], None] | None = None  # called for each valid request
    answer_for: Callable[[dict[str, Any]], int] | None = None  # per body, instead of `answer`

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(body, headers)
                except WebhookVerificationError:
                    receiver.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                parsed = json.loads(body)
                answer = receiver.answer_for(parsed) if receiver.answer_for else receiver.answer
                if answer < 300:
                    item = Received(headers["webhook-id"], parsed)
                    receiver.received.append(item)
                    receiver.applied.setdefault(item.webhook_id, item)
                    if receiver.on_received is not None:
                        receiver.on_received(item)
                self.send_response(answer)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def main() -> None:
    """Run a receiver in its own process (the benchmark's): prints its URL, then appends
    `received_at webhook-id event-timestamp` per delivery applied to --log."""
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    log = open(args.log, "a", encoding="utf-8")  # noqa: SIM115  (open for the process's life)
    lock = threading.Lock()

    def write(item: Received) -> None:
        with lock:
            log.write(f"{item.received_at} {item.webhook_id} {item.body['timestamp']}\n")
            log.flush()

    receiver = Receiver(secret=args.secret, on_received=write).start()
    print(receiver.url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin


if __name__ == "__main__":
    main()
