"""Debian's mosquitto broker and mosquitto_sub for the MQTT service tests.

The broker runs on 127.0.0.1 on a port of the test's choosing, from a
generated config (a login required, no persistence), so killing it loses
everything retained, as a real broker restart without a store does. Logins
live in files under a private folder (never the test's log folder, never a
command line); logs and the messages received go to the log folder."""
import getpass
import os
import signal
import socket
import subprocess
import threading
import time


class Broker:
    def __init__(self, folder, private, port, user, password):
        self.folder, self.port = folder, port
        self.conf = os.path.join(private, "mosquitto.conf")
        passwd = os.path.join(private, "mosquitto.passwd")
        subprocess.run(["mosquitto_passwd", "-b", "-c", passwd, user, password], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(self.conf, "w") as f:
            # Run as root, mosquitto would switch to its own user, who may not read our private folder.
            f.write(f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n"
                    "persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n")
        self.proc = None
        self.starts = 0

    def start(self, timeout=20):
        self.starts += 1
        log = open(os.path.join(self.folder, f"broker-{self.starts}.log"), "w")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"mosquitto exited with {self.proc.returncode} (see broker-{self.starts}.log)"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"mosquitto did not listen on port {self.port} within {timeout}s")

    def pause(self):
        """SIGSTOP: connections stay open, nothing is read or answered (a hung broker)."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def kill(self):
        """SIGKILL: no goodbye to anyone, as a crashed or unplugged broker."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Subscriber:
    """mosquitto_sub on `topic`, collecting (arrival, retained, topic, payload)."""

    def __init__(self, folder, private, name, port, user, password, topic):
        options_home = os.path.join(private, f"{name}-config")
        os.makedirs(options_home, exist_ok=True)
        # mosquitto_sub reads its default options from $XDG_CONFIG_HOME/mosquitto_sub.
        with open(os.path.join(options_home, "mosquitto_sub"), "w") as f:
            f.write(f"-u {user}\n-P {password}\n")
        env = dict(os.environ, XDG_CONFIG_HOME=options_home)
        self.messages = []
        self.lock = threading.Lock()
        self.log_path = os.path.join(folder, f"{name}.messages")
        # One line per message: retained flag, topic, payload (ours are single-line).
        # QoS 0: the broker then forwards everything in the order slipstream
        # published it. At QoS 1 its window of unacknowledged messages (20)
        # holds back counts and events but not the QoS 0 frame lines, so on a
        # busy machine a count could arrive after the line of its frame.
        self.proc = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "0", "-t", topic,
                                      "-F", "%r %t %p"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        with open(self.log_path, "w") as log:
            for line in self.proc.stdout:
                line = line.rstrip("\n")
                log.write(line + "\n")
                log.flush()
                parts = line.split(" ", 2)
                if len(parts) < 2 or parts[0] not in ("0", "1"):
                    continue  # an error line of mosquitto_sub's (kept in the log)
                with self.lock:
                    self.messages.append((time.monotonic(), parts[0] == "1", parts[1], parts[2] if len(parts) > 2 else ""))

    def all(self):
        with self.lock:
            return list(self.messages)

    def on(self, topic):
        return [m for m in self.all() if m[2] == topic]

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.all()):
                return
            assert self.proc.poll() is None, f"mosquitto_sub exited while waiting for {what}"
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} on MQTT")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(2)
