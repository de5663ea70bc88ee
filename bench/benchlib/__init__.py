"""Helpers for bench/run.sh: processes, CPU accounting, cameras, analysis.

Runs on Debian's /usr/bin/python3 (numpy and cv2 come from python3-opencv)."""
