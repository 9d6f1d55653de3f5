"""Raw HTTP for the tests: headers in the given order, bodies chunked or not, exactly as given."""

import http.client
import json
from dataclasses import dataclass

from harness.processes import ROOT

# The shared material every developer and CI run has beside the checkout (../shared).
CAPTURES = ROOT.parent / "shared" / "captures" / "raw"


@dataclass
class Answer:
    status: int
    headers: dict  # lower-cased names
    body: bytes

    def json(self):
        return json.loads(self.body)


def send(port, method, path, headers=(), body=b"", chunked=False, chunk_size=1000) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        if chunked:
            for i in range(0, len(body), chunk_size):
                piece = body[i : i + chunk_size]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")
        elif body:
            conn.send(body)
        response = conn.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        conn.close()


def post(port, path, body=b"", headers=None, **kwargs) -> Answer:
    headers = dict(headers or {})
    if not kwargs.get("chunked"):
        headers.setdefault("Content-Length", str(len(body)))
    return send(port, "POST", path, list(headers.items()), body, **kwargs)


def captures() -> list[str]:
    return sorted(p.name.removesuffix(".meta.json") for p in CAPTURES.glob("*.meta.json"))


def replay(port, name) -> Answer:
    meta = json.loads((CAPTURES / f"{name}.meta.json").read_text())
    body = (CAPTURES / f"{name}.body.bin").read_bytes()
    return send(port, meta["method"], meta["path"], meta["headers"], body, chunked=meta["chunked"])


def decoded(name) -> bytes:
    return (CAPTURES / f"{name}.decoded.txt").read_bytes()
