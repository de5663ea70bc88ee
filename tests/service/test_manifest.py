#!/usr/bin/python3
"""deploy/kubernetes/slipstream.yaml against the program it deploys.

Parsed with PyYAML (Debian's python3-yaml). Checked: the Deployment's
probes are HTTP GETs on a named container port; that port is the API port the
container's environment gives slipstream (API_PORT), the RTSP port is
RTSPOUTPUTPORTNUM, and each is the default `slipstream --help` states; the
Service targets ports the container names. Then slipstream runs with the
container's environment (ports moved to free ones, the token's secret
replaced by a test value): every probe path answers 200 without the token,
as Kubernetes sends none, while the API itself refuses a request without it."""
import os
import re
import subprocess
import sys
import time

import yaml

import apilib
import harness
from apilib import INFO, Api
from faultlib import check

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "..", "..", "deploy", "kubernetes", "slipstream.yaml")


def help_default(help_text, env):
    """The default `slipstream --help` gives for the option read from `env`."""
    line = next((l for l in help_text.splitlines() if f"[{env}]" in l), None)
    check(line is not None, f"slipstream --help does not list {env}")
    m = re.search(r"default (\d+)", line)
    check(m, f"slipstream --help states no default for {env}: {line.strip()}")
    return int(m.group(1))


def test(slipstream_bin):
    harness.log_dir(slipstream_bin)
    with open(MANIFEST) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    deployment = next((d for d in docs if d.get("kind") == "Deployment"), None)
    check(deployment is not None, f"{MANIFEST}: no Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    help_text = subprocess.run([slipstream_bin, "--help"], capture_output=True, text=True, timeout=60).stdout

    api_port = int(env.get("API_PORT") or help_default(help_text, "API_PORT"))
    check(api_port == help_default(help_text, "API_PORT"), f"API_PORT {api_port} is not slipstream's default")
    rtsp_port = int(env.get("RTSPOUTPUTPORTNUM") or help_default(help_text, "RTSPOUTPUTPORTNUM"))
    check(ports.get("rtsp") == rtsp_port == help_default(help_text, "RTSPOUTPUTPORTNUM"),
          f"the rtsp container port {ports.get('rtsp')} is not slipstream's RTSP port {rtsp_port}")
    probes = {}
    for kind in ("livenessProbe", "readinessProbe"):
        check(kind in container, f"the container has no {kind}")
        get = container[kind]["httpGet"]
        port = ports.get(get["port"], get["port"])
        check(port == api_port, f"{kind} probes port {get['port']} ({port}), not the API port {api_port}")
        probes[kind] = get["path"]
        print(f"  {kind}: GET {get['path']} on port {get['port']} = {port}")
    service = next((d for d in docs if d.get("kind") == "Service"), None)
    if service:
        for p in service["spec"]["ports"]:
            check(p["targetPort"] in ports or p["targetPort"] in ports.values(),
                  f"the Service targets port {p['targetPort']}, which the container does not have")

    # The program, with the container's environment.
    run_env = dict(os.environ)
    run_env.update({k: v for k, v in env.items() if v is not None})
    run_env["API_TOKEN"] = "manifest-test-token"  # the manifest takes it from a Secret
    free_api, free_rtsp = harness.free_port(), harness.free_port()
    run_env["API_PORT"], run_env["RTSPOUTPUTPORTNUM"] = str(free_api), str(free_rtsp)
    run_env.pop("RTSPINPUT", None)
    slip = harness.Process([slipstream_bin, "--bind", "127.0.0.1", "--ip", "127.0.0.1", "--width", "320", "--height", "180"],
                           env=run_env, name="slipstream")
    try:
        slip.wait_for(lambda p: any(l.startswith("Output:") for l in p.stdout()), 60, "the Output: line")
        api = Api(free_api, token=None)
        for kind, path in probes.items():
            deadline = time.monotonic() + 20
            status, body = api.call("GET", path)
            while status != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
                status, body = api.call("GET", path)
            check(status == 200, f"{kind} GET {path} without a token answered {status}: {body}")
            print(f"  GET {path}: {status} {body}")
        status, _ = api.call("GET", INFO)
        check(status == 401, f"GET {INFO} without the token answered {status}, not 401")
    finally:
        code, _ = slip.stop()
    check(code == 0, f"slipstream exited {code}")


if __name__ == "__main__":
    import faultlib
    faultlib.main(test, sys.argv)
