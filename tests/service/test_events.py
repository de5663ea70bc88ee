#!/usr/bin/python3
"""The recent track events over HTTP (GET /api/v1/events/recent) against a
running slipstream without MQTT, with a real camera (slipstream-camsim, login
required) added through the API, all on 127.0.0.1.

Checked:
  - the route needs the token; before any camera it answers an empty list;
  - bad parameters get 400 with a sentence naming the parameter, and a
    camera added through the API is told by its camera_id;
  - polled with after=<last seq>, the events come with consecutive sequence
    numbers and "latest" is the last of them; every new event's track is in
    the metadata line of the frame it names, with its label; after=latest
    gives nothing, limit pages through with "more", no after gives the newest;
  - removed, the camera's open tracks end and no new ones start.
Detection runs at the lowest priority: on a machine that gave it too little
time to find a person (fewer than MIN_DETECTIONS frames), the checks that
need tracks are skipped and say so."""
import time

import apilib  # noqa: F401  (puts faultlib and harness on the path)
import faultlib
import harness
from apilib import ADD, REMOVE, Api, camera_body
from faultlib import check

TOKEN = "events-test-token-2b9c"
EVENTS = "/api/v1/events/recent"
FAIL = "GET_RECENT_EVENTS_FAIL"
# Fewer detected frames than this while waiting for a track: the machine left
# detection no time, and the checks that need tracks are skipped.
MIN_DETECTIONS = 20


class Poller:
    """Reads the route as the page does: after the last seq seen, every event kept in order."""

    def __init__(self, api):
        self.api, self.events, self.last, self.started = api, [], 0, None

    def poll(self):
        status, body = self.api.call("GET", f"{EVENTS}?after={self.last}&limit=200")
        check(status == 200 and body["reason"] == "GET_RECENT_EVENTS_SUCCESS", f"poll: {status} {body}")
        check(self.started in (None, body["started"]), f"started changed within one run: {self.started} -> {body['started']}")
        self.started = body["started"]
        for e in body["events"]:
            check(e["seq"] == self.last + 1, f"seq {e['seq']} follows {self.last}: an event was skipped or repeated")
            self.last = e["seq"]
            self.events.append(e)
        check(body["latest"] >= self.last, f"latest {body['latest']} is below the last event's seq {self.last}")
        if not body["more"]:
            check(body["latest"] == self.last, f"no more events, yet latest {body['latest']} != {self.last}")
        return body

    def until(self, condition, timeout):
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if condition(self.events):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.3)


def open_tracks(events):
    tracks = set()
    for e in events:
        key = (e["after"]["camera_id"], e["after"]["track_id"])
        if e["type"] == "new":
            tracks.add(key)
        elif e["type"] == "end":
            tracks.discard(key)
    return tracks


def in_metadata(slip, source, event):
    """The metadata line of the frame a new event names shows its track with its label."""
    after = event["after"]
    for _, r in slip.frames(source):
        if r["frame"] == after["frame"]:
            return any(o.get("track_id") == after["track_id"] and o["label"] == after["label"] for o in r["objects"])
    return None  # not read yet


def test(camsim_bin, slipstream_bin):
    harness.log_dir(slipstream_bin)
    camsim = faultlib.Camsim(camsim_bin, count=1, fps=10, auth=f"{faultlib.USER}:{faultlib.PASSWORD}").start()
    token_file = harness.artifact("api-token.txt", slipstream_bin)
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    api_port = harness.free_port()
    # Detection on every other frame (the light pipeline's 1 in 30 makes few tracks).
    slip = faultlib.Slipstream(slipstream_bin, [],
                               extra=["--api-port", str(api_port), "--api-token-file", token_file, "--interval", "1"])
    api = Api(api_port, TOKEN)
    try:
        deadline = time.monotonic() + 20
        while api.call("GET", "/readyz", token=None)[0] != 200:
            check(time.monotonic() < deadline, "/readyz never answered 200")
            time.sleep(0.2)

        print("the route before any camera")
        status, body = api.call("GET", EVENTS, token=None)
        check(status == 401 and "Authorization: Bearer" in body["error"], f"no token: {status} {body}")
        status, body = api.call("GET", EVENTS)
        check(status == 200 and body["events"] == [] and body["latest"] == 0 and body["more"] is False,
              f"no camera yet: {status} {body}")
        started = body["started"]
        check(abs(started - time.time()) < 120, f"started {started} is not this run's start (now {time.time()})")
        check(body["status"] == "HTTP/1.1 200 OK", f"status field {body['status']!r}")

        print("bad parameters")
        for query, named in (("after=-1", "after"), ("after=abc", "after"), ("after=", "after"), ("after=1.5", "after"),
                             ("limit=0", "limit"), ("limit=201", "limit"), ("limit=ten", "limit"),
                             ("limit=99999999999999999999999", "limit"), ("afterr=3", "afterr")):
            status, body = api.call("GET", f"{EVENTS}?{query}")
            check(status == 400 and body.get("reason") == FAIL and named in body.get("error", "")
                  and len(body["error"]) > 40 and body["status"].startswith("HTTP/1.1 400 "),
                  f"?{query}: answered {status} {body}")
            print(f"  ?{query}: {status} {body['error']}")
        check(api.call("POST", EVENTS)[0] == 405, "POST to the events route is not 405")

        print("a camera added through the API")
        status, body = api.call("POST", ADD, camera_body("lobby", camsim.uri(0), name="Lobby"))
        check(status == 200, f"add: {status} {body}")
        source = body["source_id"]
        slip.wait_frames(source, 5, 30, after=0, what="the camera's frames in the metadata")

        poller = Poller(api)
        if not poller.until(lambda evs: sum(e["type"] == "new" for e in evs) >= 3, 120):
            detected = sum(1 for _, r in slip.frames(source) if r["detected"])
            check(detected < MIN_DETECTIONS, f"{detected} frames detected in 120 s, yet only {len(poller.events)} track events")
            print(f"NOTE: only {detected} frames detected: the machine left detection no time; "
                  "the checks that need tracks are skipped")
        else:
            events = poller.events
            news = [e for e in events if e["type"] == "new"]
            print(f"  {len(events)} events, {len(news)} new, e.g. {news[0]}")
            for e in events:
                check(e["after"]["camera_id"] == "lobby" and e["type"] in ("new", "update", "end"),
                      f"an event not of camera 'lobby': {e}")
                check(isinstance(e["time"], float) and abs(e["time"] - time.time()) < 300, f"event time: {e}")
                check(len(e["after"]["box"]) == 4 and 0 < e["after"]["confidence"] <= 1, f"box or confidence: {e}")
            for e in news:
                check(e["before"] is None and e["after"]["first_seen"] == e["after"]["last_seen"], f"a new event: {e}")
                deadline = time.monotonic() + 10
                while (seen := in_metadata(slip, source, e)) is None and time.monotonic() < deadline:
                    time.sleep(0.2)
                check(seen, f"new track {e['after']['track_id']} ({e['after']['label']}) is not on the metadata line "
                            f"of frame {e['after']['frame']}")

            print("paging")
            first = events[0]["seq"]
            status, body = api.call("GET", f"{EVENTS}?after={first - 1}&limit=2")
            check(status == 200 and [e["seq"] for e in body["events"]] == [first, first + 1] and body["more"] is True,
                  f"after={first - 1}&limit=2: {status} {[e['seq'] for e in body['events']]} more={body['more']}")
            check(body["events"][0] == events[0], f"the same event read twice differs: {body['events'][0]} vs {events[0]}")
            status, body = api.call("GET", f"{EVENTS}?limit=3")
            seqs = [e["seq"] for e in body["events"]]
            check(status == 200 and len(seqs) == 3 and seqs == sorted(seqs) and seqs[-1] == body["latest"],
                  f"the newest three: {status} {seqs}, latest {body['latest']}")
            status, body = api.call("GET", f"{EVENTS}?after={body['latest']}")
            check(status == 200 and all(e["seq"] > seqs[-1] for e in body["events"]), f"after=latest: {status} {body}")
            status, body = api.call("GET", f"{EVENTS}?after=99999999")
            check(status == 200 and body["events"] == [] and body["latest"] < 99999999, f"after a seq not reached: {body}")

        print("the camera removed")
        status, body = api.call("POST", REMOVE, camera_body("lobby", change="camera_remove"))
        check(status == 200, f"remove: {status} {body}")
        # The removal ends its tracks before it answers; frames still on their way start none.
        poller.poll()
        ended = [e for e in poller.events if e["type"] == "end"]
        check(not open_tracks(poller.events), f"tracks still open after the camera left: {open_tracks(poller.events)}")
        settled = poller.last
        time.sleep(2)
        poller.poll()
        late = [e for e in poller.events if e["seq"] > settled]
        check(not late, f"events after the only camera left: {late}")
        print(f"  every track ended ({len(ended)} end events in all), none after")
    finally:
        slip.stop()
        camsim.stop()
    check(not apilib.leaked_secrets(slip, api.answers),
          "a camera password appeared in an API answer or slipstream's output")


if __name__ == "__main__":
    import sys
    faultlib.main(test, sys.argv)
