"""A client of slipstream's HTTP API for the service tests: Python's own
http.client, one connection per call, every call bounded in time."""
import http.client
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

ADD = "/api/v1/stream/add"
REMOVE = "/api/v1/stream/remove"
INFO = "/api/v1/stream/get-stream-info"
READY = "/api/v1/health/get-dsready-state"


def leaked_secrets(slip, texts, extra=()):
    """The test passwords (faultlib's, and `extra`) found in `texts` (API
    answers, scrapes) or in anything slipstream printed."""
    import faultlib
    said = slip.proc.stdout() + slip.stderr()
    return [s for s in (*faultlib.SECRETS, *extra) if any(s in t for t in texts) or any(s in l for l in said)]


def camera_body(camera_id, url=None, name=None, change="camera_add"):
    """A request body as DeepStream's clients send it."""
    value = {"camera_id": camera_id, "change": change}
    if url is not None:
        value["camera_url"] = url
    if name is not None:
        value["camera_name"] = name
    return {"key": "sensor", "value": value, "headers": {"source": "service-test", "created_at": "2026-01-01T00:00:00Z"}}


class Api:
    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.answers = []  # every answer's text, to look for credentials afterwards

    def call(self, method, path, body=None, raw=None, token="default", headers=None):
        """(status, parsed JSON or None). token=None sends no Authorization header."""
        token = self.token if token == "default" else token
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            h = {"Content-Type": "application/json"} if data is not None else {}
            if token:
                h["Authorization"] = f"Bearer {token}"
            h.update(headers or {})
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read().decode()
        finally:
            conn.close()
        self.answers.append(text)
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            raise AssertionError(f"{method} {path}: answer {r.status} is not JSON: {text[:200]!r}")
        return r.status, parsed

    def announce_big_body(self, path, length):
        """A POST whose headers announce `length` bytes and ask "Expect:
        100-continue" (as curl does for big bodies), none sent: the server must
        answer from the headers alone."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.putrequest("POST", path)
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(length))
            conn.putheader("Expect", "100-continue")
            if self.token:
                conn.putheader("Authorization", f"Bearer {self.token}")
            conn.endheaders()
            r = conn.getresponse()
            text = r.read().decode()
        finally:
            conn.close()
        self.answers.append(text)
        return r.status, json.loads(text)

    def cameras(self):
        status, body = self.call("GET", INFO)
        assert status == 200, f"get-stream-info answered {status}: {body}"
        info = body["stream-info"]
        assert info["stream-count"] == len(info["stream-info"]), f"stream-count disagrees with the list: {info}"
        return {c["camera_id"]: c for c in info["stream-info"]}
