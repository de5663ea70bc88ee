"""A minimal RTSP client over TCP (interleaved RTP) for tests: it counts
frames (distinct RTP timestamps) without decoding, so many viewers cost
almost no CPU, and it can stop reading to play a stalled viewer."""
import base64
import hashlib
import re
import socket
import struct
import threading
import time


class RtspError(Exception):
    pass


class RtspViewer:
    def __init__(self, url, user=None, password=None, timeout=10):
        m = re.match(r"rtsp://(?:[^@/]*@)?([^:/]+):(\d+)(/.*)?$", url)
        if not m:
            raise ValueError(url)
        self.url = re.sub(r"//[^@/]*@", "//", url)
        self.host, self.port = m.group(1), int(m.group(2))
        self.user, self.password = user, password
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        self.cseq = 0
        self.session = None
        self.buffer = b""
        self.auth_header = None
        self.frames = []  # (arrival monotonic, rtp timestamp) of each new frame
        self.stop_reading = threading.Event()
        self.reader = None

    def _read_exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RtspError("connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _read_response(self):
        while True:
            if self.buffer.startswith(b"$"):
                # Interleaved data before the response: skip it, whatever its bytes
                # (a payload may hold a blank line, which is no response).
                if len(self.buffer) >= 4:
                    size = struct.unpack(">H", self.buffer[2:4])[0]
                    self._read_exact(4 + size)
                    continue
            elif b"\r\n\r\n" in self.buffer:
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RtspError("connection closed")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        body = self._read_exact(int(headers.get("content-length", 0))) if "content-length" in headers else b""
        return status, headers, body

    def request(self, method, url=None, headers=None):
        self.cseq += 1
        lines = [f"{method} {url or self.url} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: slipstream-test"]
        if self.session:
            lines.append(f"Session: {self.session}")
        if self.auth_header:
            lines.append(self.auth_header(method, url or self.url))
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self._read_response()

    def _set_auth(self, challenge):
        if challenge.lower().startswith("digest"):
            fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
            realm, nonce = fields.get("realm", ""), fields.get("nonce", "")

            def digest(method, uri):
                ha1 = hashlib.md5(f"{self.user}:{realm}:{self.password}".encode()).hexdigest()
                ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
                response = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
                return (f'Authorization: Digest username="{self.user}", realm="{realm}", nonce="{nonce}", '
                        f'uri="{uri}", response="{response}"')
            self.auth_header = digest
        else:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            self.auth_header = lambda method, uri: f"Authorization: Basic {token}"

    def describe(self):
        status, headers, body = self.request("DESCRIBE", headers={"Accept": "application/sdp"})
        if status == 401 and self.user is not None:
            self._set_auth(headers.get("www-authenticate", "Basic"))
            status, headers, body = self.request("DESCRIBE", headers={"Accept": "application/sdp"})
        return status, headers, body

    def play(self):
        """DESCRIBE, SETUP (TCP interleaved), PLAY; returns the DESCRIBE status."""
        status, headers, body = self.describe()
        if status != 200:
            return status
        base = headers.get("content-base", self.url)
        control = re.search(r"a=control:(\S+)", body.decode("latin-1").split("m=video", 1)[-1])
        track = control.group(1) if control else ""
        setup_url = track if track.startswith("rtsp://") else base.rstrip("/") + "/" + track
        status, headers, _ = self.request("SETUP", setup_url, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        if status != 200:
            raise RtspError(f"SETUP answered {status}")
        self.session = headers.get("session", "").split(";")[0]
        status, _, _ = self.request("PLAY", base, {"Range": "npt=0-"})
        if status != 200:
            raise RtspError(f"PLAY answered {status}")
        return 200

    def start_counting(self):
        def read():
            last_ts = None
            try:
                while not self.stop_reading.is_set():
                    if self._read_exact(1) != b"$":
                        continue  # an RTSP message from the server (keep-alive answers)
                    channel, size = struct.unpack(">BH", self._read_exact(3))
                    packet = self._read_exact(size)
                    if channel == 0 and size >= 12:
                        ts = struct.unpack(">I", packet[4:8])[0]
                        if ts != last_ts:
                            self.frames.append((time.monotonic(), ts))
                            last_ts = ts
            except (OSError, RtspError):
                pass
        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()

    def frame_rate(self, since):
        got = [t for t, _ in self.frames if t >= since]
        if len(got) < 2:
            return 0.0
        return (len(got) - 1) / (got[-1] - got[0])

    def close(self):
        self.stop_reading.set()
        try:
            self.sock.close()
        except OSError:
            pass
