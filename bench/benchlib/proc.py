"""Child processes and the CPU time they use.

CPU time comes from /proc/<pid>/stat (utime + stime cover every thread of a
process, live or exited), summed over a process and its descendants, so a
figure never depends on wall time or on what else the machine is doing.
The machine-wide busy time from /proc/stat is sampled alongside, so a run
can say how much CPU other programs took while it measured."""
import os
import signal
import socket
import subprocess
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")

# Niceness for everything the benchmark starts (None: leave as is). With the
# kernel's autogroups, every session is scheduled as one group and niceness
# only ranks processes inside a group, so each child's session (autogroup)
# gets the niceness too.
NICE = None


def prioritize(pid):
    if NICE is None:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, NICE)
    except OSError:
        pass
    try:
        with open("/proc/%d/autogroup" % pid, "w") as f:
            f.write(str(NICE))
    except OSError:
        pass


def free_port(udp=False):
    """A loopback port nothing listens on now: TCP, or UDP with udp=True."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat_fields(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        data = f.read().decode(errors="replace")
    # The command name may hold spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    return rest  # rest[0] is field 3 (state)


def process_cpu(pid):
    """utime + stime of one process (all its threads), seconds; None if gone."""
    try:
        f = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return (int(f[11]) + int(f[12])) / TICK  # fields 14 and 15


def _children_map():
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(name))[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    return children


def tree_pids(pid):
    children = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu(pid):
    """CPU seconds of a process and its live descendants."""
    total = 0.0
    for p in tree_pids(pid):
        c = process_cpu(p)
        if c is not None:
            total += c
    return total


def machine_busy():
    """Seconds of CPU the whole machine spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    values = [int(v) for v in parts]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    busy = sum(values[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / TICK


def thread_cpu(pid):
    """CPU seconds of each live thread of a process: {(tid, name): seconds}."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid), "rb") as f:
                data = f.read().decode(errors="replace")
        except OSError:
            continue
        name = data[data.index("(") + 1:data.rindex(")")]
        rest = data[data.rindex(")") + 2:].split()
        out[(int(tid), name)] = (int(rest[11]) + int(rest[12])) / TICK
    return out


def group_threads(before, after, main_pid):
    """CPU per thread-name group between two thread_cpu samples. GStreamer
    names streaming threads after their pad (queue0:src ...): digits are
    folded so all cameras' threads of one kind add up."""
    groups = {}
    for key, value in after.items():
        tid, name = key
        used = value - before.get(key, 0.0)
        if tid == main_pid:
            label = "main"
        else:
            label = "".join("N" if ch.isdigit() else ch for ch in name)
        groups[label] = groups.get(label, 0.0) + used
    return {k: round(v, 2) for k, v in sorted(groups.items(), key=lambda kv: -kv[1]) if v > 0}


class CpuWindow:
    """CPU used by named process trees, and by everything else, over a window."""

    def __init__(self, trees, threads_of=None):
        self.trees = dict(trees)  # name -> pid
        self.trees.setdefault("bench", os.getpid())
        self.threads_of = threads_of  # a pid whose threads are broken down
        self.t0 = self.t1 = None
        self.start = {}
        self.end = {}
        self.threads0 = self.threads1 = {}

    def _sample(self):
        # "bench" is this process alone (the viewer threads); others are trees.
        cpu = {name: (process_cpu(pid) if name == "bench" else tree_cpu(pid)) for name, pid in self.trees.items()}
        return cpu, machine_busy(), time.monotonic()

    def begin(self):
        if self.threads_of:
            self.threads0 = thread_cpu(self.threads_of)
        self.start, self.busy0, self.t0 = self._sample()

    def finish(self):
        self.end, self.busy1, self.t1 = self._sample()
        if self.threads_of:
            self.threads1 = thread_cpu(self.threads_of)
        return self.result()

    def result(self):
        seconds = self.t1 - self.t0
        used = {name: self.end[name] - self.start[name] for name in self.trees}
        machine = self.busy1 - self.busy0
        ours = sum(used.values())
        result = {
            "seconds": round(seconds, 2),
            "cpu_s": {k: round(v, 2) for k, v in used.items()},
            "cpu_per_s": {k: round(v / seconds, 3) for k, v in used.items()},
            "machine_busy_per_s": round(machine / seconds, 3),
            # Other people's programs on this machine during the window.
            "foreign_per_s": round(max(0.0, machine - ours) / seconds, 3),
        }
        if self.threads_of:
            result["threads_cpu_s"] = group_threads(self.threads0, self.threads1, self.threads_of)
        return result


class Child:
    """A child process whose output lines are collected (with arrival times) by threads."""

    def __init__(self, args, name, env=None, cwd=None, stdout_file=None):
        self.name = name
        self.args = [str(a) for a in args]
        self.lines = []  # (monotonic time, stream, text)
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=env, cwd=cwd, text=True, errors="replace",
                                     bufsize=1, start_new_session=True)
        prioritize(self.proc.pid)
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, "out"), daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, "err"), daemon=True)]
        for r in self.readers:
            r.start()

    @property
    def pid(self):
        return self.proc.pid

    def _read(self, stream, which):
        for line in stream:
            with self.lock:
                self.lines.append((time.monotonic(), which, line.rstrip("\n")))

    def text(self, which=None):
        with self.lock:
            return [l for _, w, l in self.lines if which is None or w == which]

    def find(self, predicate):
        """(time, line) of the first line satisfying predicate, or None."""
        with self.lock:
            for t, _, l in self.lines:
                if predicate(l):
                    return t, l
        return None

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hit = self.find(predicate)
            if hit:
                return hit
            if self.proc.poll() is not None:
                time.sleep(0.2)
                hit = self.find(predicate)
                if hit:
                    return hit
                raise RuntimeError("%s exited (%s) while waiting for %s:\n%s" %
                                   (self.name, self.proc.returncode, what, "\n".join(self.text()[-20:])))
            time.sleep(0.05)
        raise RuntimeError("%s: no %s within %d s:\n%s" % (self.name, what, timeout, "\n".join(self.text()[-20:])))

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10, sig=signal.SIGTERM):
        """Stops this child (and only its own process group), returns the exit code."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        for r in self.readers:
            r.join(2)
        return self.proc.returncode


def sleep_until(t):
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)
