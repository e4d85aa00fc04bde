"""A small OpenAI-compatible chat server on 127.0.0.1 with scripted replies.

Real HTTP and the real client code (LlamaIndex ``OpenAILike``); the replies are chosen by
a script function from the request's messages, and streamed as server-sent events.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Script = Callable[[list[dict]], str]


def passage_number(prompt: str, needle: str) -> int:
    """The [n] of the numbered passage in ``prompt`` that contains ``needle``."""
    for m in re.finditer(r"^\[(\d+)\][^\n]*\n<<<\n(.*?)\n>>>", prompt, re.S | re.M):
        if needle in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"no passage contains {needle!r}")


class FakeOpenAI:
    def __init__(self, script: Script):
        self.script = script
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                outer.requests.append(body)
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                reply = outer.script(body.get("messages", []))
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    pieces = re.findall(r"\S+\s*", reply) or [""]
                    for i, piece in enumerate(pieces):
                        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "local",
                                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece} if i == 0
                                              else {"content": piece}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    done = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "local",
                            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                    self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                    return
                data = {"id": "c1", "object": "chat.completion", "created": 0, "model": "local",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                payload = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
