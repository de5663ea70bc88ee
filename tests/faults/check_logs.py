#!/usr/bin/python3
"""The last test of the suite: no test camera password in anything the tests
wrote. Reads every file under the given folders (build/test-logs/: each
process's stdout/stderr and metadata, saved by harness.py; CTest's own logs in
build/Testing/Temporary/) and fails on any file that holds one of the
passwords faultlib.py gives the test cameras, naming the file and line but
never the password.

    check_logs.py LOG_FOLDER [MORE_FOLDERS_OR_FILES...]"""
import os
import sys

import faultlib


def files_under(path):
    if os.path.isfile(path):
        yield path
        return
    for folder, _, names in os.walk(path):
        for name in sorted(names):
            yield os.path.join(folder, name)


def main(logs, *more):
    if not os.path.isdir(logs) or not any(True for _ in files_under(logs)):
        print(f"FAIL: nothing in {logs}: run the fault and end-to-end tests first", file=sys.stderr)
        return 1
    secrets = [s.encode() for s in faultlib.SECRETS]
    found, checked, masked_uris = [], 0, 0
    for root in (logs, *[m for m in more if os.path.exists(m)]):
        for path in files_under(root):
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            checked += 1
            masked_uris += data.count(b"://***@")
            lowered = data.lower()
            for k, secret in enumerate(secrets):
                at = lowered.find(secret.lower())
                if at >= 0:
                    line = data.count(b"\n", 0, at) + 1
                    found.append(f"{path}:{line}: test password #{k + 1}")
    print(f"checked {checked} files; {masked_uris} masked URIs (://***@) among them")
    if masked_uris == 0:
        print("FAIL: no masked URI in any log: the tests with credentials did not run or log nothing",
              file=sys.stderr)
        return 1
    if found:
        print("FAIL: a test camera password was written to:\n  " + "\n  ".join(found), file=sys.stderr)
        return 1
    print("no test camera password in any log or metadata file")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
