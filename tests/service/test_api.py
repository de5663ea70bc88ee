#!/usr/bin/python3
"""The HTTP API against a running slipstream, with a real HTTP client
(http.client) and real cameras (slipstream-camsim, login required), all on
127.0.0.1.

slipstream starts with no camera and a token (from a file). Checked:
  - /livez and /readyz answer without the token; everything else needs it (401);
  - a camera added through the API (credentials in its URL) plays: its frames
    reach the metadata under the source id the answer gave, get-stream-info
    lists it playing with codec, size and rates, its URL masked;
  - every bad request gets its status and a JSON error, and changes nothing:
    not JSON / no body / fields missing 400, an id already present 409,
    schemes slipstream cannot read 422, a body over the limit 413 (answered
    from the headers), an unknown camera 404, a wrong method 405, an unknown path 404;
  - removed, its frames stop and it leaves the list; re-added under the same
    id it plays again; a second camera plays beside it;
  - a second slipstream asked for the same API port stops with a one-line error;
  - the password never appears in any answer or output line; SIGTERM, exit 0."""
import json
import time

import apilib
import faultlib
import harness
from apilib import ADD, INFO, READY, REMOVE, Api, camera_body
from faultlib import check

TOKEN = "service-test-token-7f3a"


def wait_state(api, camera_id, state, timeout):
    deadline = time.monotonic() + timeout
    camera = None
    while time.monotonic() < deadline:
        camera = api.cameras().get(camera_id)
        if camera and camera["state"] == state:
            return camera
        time.sleep(0.2)
    raise AssertionError(f"camera {camera_id} not {state} after {timeout} s: {camera}")


def expect_refusal(api, label, status, reason, call):
    """A bad request: its status, a JSON error with a sentence, and the cameras unchanged."""
    before = {k: (v["source_id"], v["camera_url"]) for k, v in api.cameras().items()}
    got, body = call()
    check(got == status, f"{label}: answered {got}, expected {status}: {body}")
    check(isinstance(body, dict) and body.get("reason") == reason and len(body.get("error", "")) > 20,
          f"{label}: the answer lacks reason {reason} and an error sentence: {body}")
    check(body["status"].startswith(f"HTTP/1.1 {status} "), f"{label}: status field {body['status']!r}")
    after = {k: (v["source_id"], v["camera_url"]) for k, v in api.cameras().items()}
    check(after == before, f"{label}: the cameras changed: {before} -> {after}")
    print(f"  {label}: {got} {body['error']}")


def test(camsim_bin, slipstream_bin):
    harness.log_dir(slipstream_bin)
    camsim = faultlib.Camsim(camsim_bin, count=2, fps=10, auth=f"{faultlib.USER}:{faultlib.PASSWORD}").start()
    token_file = harness.artifact("api-token.txt", slipstream_bin)
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    api_port = harness.free_port()
    slip = faultlib.Slipstream(slipstream_bin, [], extra=["--api-port", str(api_port), "--api-token-file", token_file])
    api = Api(api_port, TOKEN)
    try:
        check(any(l.startswith(f"API: http://127.0.0.1:{api_port}/") for l in slip.proc.stdout()),
              "no 'API: http://127.0.0.1:PORT/...' line on stdout")
        print("probes and the token")
        check(api.call("GET", "/livez", token=None)[0] == 200, "/livez without the token is not 200")
        deadline = time.monotonic() + 20
        while api.call("GET", "/readyz", token=None)[0] != 200:
            check(time.monotonic() < deadline, "/readyz never answered 200")
            time.sleep(0.2)
        for label, token in (("no token", None), ("wrong token", "not-the-token")):
            status, body = api.call("GET", INFO, token=token)
            check(status == 401 and "Authorization: Bearer" in body["error"], f"{label}: {status} {body}")
            print(f"  {label}: {status} {body['error']}")
        status, body = api.call("GET", READY)
        check(status == 200 and body["health-info"]["ds-ready"] == "YES", f"get-dsready-state: {status} {body}")
        check(api.cameras() == {}, "cameras listed before any was added")

        print("add a camera (login in its URL)")
        url_a = camsim.uri(0)
        status, body = api.call("POST", ADD, camera_body("door", url_a, name="Front door"))
        check(status == 200 and body["reason"] == "STREAM_ADD_SUCCESS", f"add: {status} {body}")
        source_a = body["source_id"]
        t = time.monotonic()
        slip.wait_frames(source_a, 5, 20, after=t, what="the added camera's frames in the metadata")
        cam = wait_state(api, "door", "playing", 10)
        print(f"  door: {cam}")
        check(cam["camera_url"] == faultlib.masked(url_a), f"camera_url not masked as expected: {cam['camera_url']}")
        check(cam["camera_name"] == "Front door" and cam["codec"] == "H.264" and (cam["width"], cam["height"]) == (640, 360),
              f"name, codec or size wrong: {cam}")
        time.sleep(2.5)  # the rates are measured over a few seconds
        cam = api.cameras()["door"]
        check(cam["fps_in"] > 3 and cam["fps_shown"] > 3, f"rates of a 10 fps camera: {cam}")

        print("bad requests change nothing")
        expect_refusal(api, "not JSON", 400, "STREAM_ADD_FAIL",
                       lambda: api.call("POST", ADD, raw=b'{"key":"sensor","value":{"camera_id":'))
        expect_refusal(api, "no body", 400, "STREAM_ADD_FAIL", lambda: api.call("POST", ADD, raw=b""))
        expect_refusal(api, "no value", 400, "STREAM_ADD_FAIL", lambda: api.call("POST", ADD, body={"key": "sensor"}))
        expect_refusal(api, "no camera_url", 400, "STREAM_ADD_FAIL",
                       lambda: api.call("POST", ADD, camera_body("yard")))
        expect_refusal(api, "no camera_id", 400, "STREAM_ADD_FAIL",
                       lambda: api.call("POST", ADD, body={"key": "sensor", "value": {"camera_url": camsim.uri(1)}}))
        expect_refusal(api, "change says remove", 400, "STREAM_ADD_FAIL",
                       lambda: api.call("POST", ADD, camera_body("yard", camsim.uri(1), change="camera_remove")))
        expect_refusal(api, "id already present", 409, "STREAM_ADD_FAIL",
                       lambda: api.call("POST", ADD, camera_body("door", camsim.uri(1))))
        for url in ("ftp://127.0.0.1/video.mp4", "nosuchscheme://host/x", "/tmp/video.mp4"):
            expect_refusal(api, f"url {url}", 422, "STREAM_ADD_FAIL",
                           lambda url=url: api.call("POST", ADD, camera_body("yard", url)))
        expect_refusal(api, "body over the limit, announced", 413, "BODY_TOO_LARGE",
                       lambda: api.announce_big_body(ADD, 10_000_000))
        big = json.dumps(camera_body("yard", camsim.uri(1), name="x" * 200_000)).encode()
        expect_refusal(api, "body over the limit, sent", 413, "BODY_TOO_LARGE", lambda: api.call("POST", ADD, raw=big))
        expect_refusal(api, "body over the limit, chunked", 413, "BODY_TOO_LARGE",
                       # an iterable body without a length: http.client sends it chunked
                       lambda: api.call("POST", ADD, raw=iter([big[:100_000], big[100_000:]])))
        expect_refusal(api, "unknown camera", 404, "STREAM_REMOVE_FAIL",
                       lambda: api.call("POST", REMOVE, camera_body("nobody", change="camera_remove")))
        expect_refusal(api, "remove without token", 401, "UNAUTHORIZED",
                       lambda: api.call("POST", REMOVE, camera_body("door", change="camera_remove"), token=None))
        expect_refusal(api, "wrong method", 405, "METHOD_NOT_ALLOWED", lambda: api.call("GET", ADD))
        expect_refusal(api, "unknown path", 404, "NOT_FOUND", lambda: api.call("GET", "/api/v1/stream/nothing"))

        print("remove, re-add, and a second camera")
        status, body = api.call("POST", REMOVE, camera_body("door", change="camera_remove"))
        check(status == 200 and body["reason"] == "STREAM_REMOVE_SUCCESS", f"remove: {status} {body}")
        removed_at = time.monotonic()
        check("door" not in api.cameras(), "the removed camera is still listed")
        time.sleep(1.5)
        late = slip.frames(source_a, removed_at + 0.5)
        check(not late, f"{len(late)} frames of the removed camera after its removal")
        status, body = api.call("POST", ADD, camera_body("door", url_a))
        check(status == 200 and body["source_id"] != source_a, f"re-add: {status} {body}")
        source_a2 = body["source_id"]
        status, body = api.call("POST", ADD, camera_body("yard", camsim.uri(1), name="Yard"))
        check(status == 200, f"second camera: {status} {body}")
        source_b = body["source_id"]
        t = time.monotonic()
        for source in (source_a2, source_b):
            slip.wait_frames(source, 5, 20, after=t, what=f"frames of source {source}")
        wait_state(api, "door", "playing", 10)
        wait_state(api, "yard", "playing", 10)
        print(f"  door again as source {source_a2}, yard as source {source_b}: both playing")

        print("the same API port twice")
        other = harness.Process([slipstream_bin, "--port", str(harness.free_port()), *faultlib.LIGHT,
                                 "--api-port", str(api_port)], name="slipstream-port-taken")
        deadline = time.monotonic() + 60
        while other.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        other.kill()
        errors = [l for l in other.stderr() if "API" in l and str(api_port) in l]
        check(other.proc.returncode == 2 and len(errors) == 1 and "--api-port" in errors[0],
              f"second slipstream on the same API port: exit {other.proc.returncode}, {other.stderr()[-5:]}")
        print(f"  exit 2: {errors[0]}")
    finally:
        code = slip.stop()
        camsim.stop()
    check(not apilib.leaked_secrets(slip, api.answers),
          "a camera password appeared in an API answer or slipstream's output")


if __name__ == "__main__":
    import sys
    faultlib.main(test, sys.argv)
