#!/usr/bin/python3
"""A TCP relay on loopback that can cut the network between slipstream and a
camera without the camera exiting. Fault tests run it as a child process:

    relay.py LISTEN_PORT TARGET_PORT [--frozen]

prints "ready PORT" once listening, then takes one command per line on stdin
and answers "ok COMMAND" when it is done:

  freeze  stop moving bytes, both ways, on every connection; the sockets stay
          open and new connections wait unaccepted in the listen queue: a
          silent stall, as when a cable is pulled or a router drops packets
  thaw    move bytes again: stalled connections carry on where they stopped
  reset   reset (RST) every connection and stop listening: new connections
          are refused, as when a camera's host reboots
  listen  listen again after a reset (same port)
  count   answer "ok count N": connections open now (both sides counted once)
  quit    close everything and exit (also on end of input)

Single-threaded (selectors), so a command is applied between two transfers,
never in the middle of one."""
import os
import selectors
import socket
import struct
import sys


class Relay:
    def __init__(self, listen_port, target_port, frozen):
        self.listen_port = listen_port
        self.target_port = target_port
        self.frozen = frozen
        self.sel = selectors.DefaultSelector()
        self.listener = None
        self.pairs = []  # [client, upstream]
        self.peer = {}   # socket -> the other side
        self.pending = {}  # socket -> bytes not yet written to it
        self.open_listener()

    def open_listener(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.listen_port))
        s.listen(64)
        s.setblocking(False)
        self.listen_port = s.getsockname()[1]
        self.listener = s
        self.update_interest()

    def update_interest(self):
        """(Re)registers every socket for what it may do in the current state."""
        wanted = {}
        if self.listener and not self.frozen:
            wanted[self.listener] = selectors.EVENT_READ
        if not self.frozen:
            for s in self.peer:
                events = selectors.EVENT_READ
                if self.pending.get(s):
                    events |= selectors.EVENT_WRITE
                wanted[s] = events
        for key in list(self.sel.get_map().values()):
            if key.fileobj is sys.stdin:
                continue
            if key.fileobj not in wanted:
                self.sel.unregister(key.fileobj)
        for s, events in wanted.items():
            try:
                key = self.sel.get_key(s)
                if key.events != events:
                    self.sel.modify(s, events)
            except KeyError:
                self.sel.register(s, events)

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except BlockingIOError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                self.abort(client)  # the camera is down: so is the relay's side
                continue
            for s in (client, upstream):
                s.setblocking(False)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.peer[client], self.peer[upstream] = upstream, client
            self.pairs.append([client, upstream])

    @staticmethod
    def abort(s):
        # Linger 0: close() sends a reset, not an orderly FIN.
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        s.close()

    def close_pair(self, s, reset=False):
        other = self.peer.pop(s, None)
        for x in (s, other):
            if x is None:
                continue
            self.peer.pop(x, None)
            self.pending.pop(x, None)
            try:
                self.sel.unregister(x)
            except (KeyError, ValueError):
                pass
            if reset:
                self.abort(x)
            else:
                x.close()
        self.pairs = [p for p in self.pairs if s not in p]

    def transfer(self, s, events):
        if events & selectors.EVENT_WRITE and self.pending.get(s):
            try:
                n = s.send(self.pending[s])
                self.pending[s] = self.pending[s][n:]
            except BlockingIOError:
                pass
            except OSError:
                self.close_pair(s)
                return
        if events & selectors.EVENT_READ:
            other = self.peer.get(s)
            if other is None:
                return
            # Back-pressure: read no more while the other side still owes a lot.
            if len(self.pending.get(other, b"")) > 1 << 20:
                return
            try:
                data = s.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                self.close_pair(s, reset=True)
                return
            if not data:
                self.close_pair(s)
                return
            self.pending[other] = self.pending.get(other, b"") + data

    def command(self, line):
        word = line.strip()
        if word == "freeze":
            self.frozen = True
        elif word == "thaw":
            self.frozen = False
        elif word == "reset":
            for client, upstream in list(self.pairs):
                self.close_pair(client, reset=True)
            if self.listener:
                try:
                    self.sel.unregister(self.listener)
                except KeyError:
                    pass
                # Connections still waiting in the listen queue get reset too.
                self.abort(self.listener)
                self.listener = None
        elif word == "listen":
            if not self.listener:
                self.open_listener()
        elif word == "count":
            word = f"count {len(self.pairs)}"
        elif word == "quit":
            return False
        elif word:
            print(f"error unknown command {word}", flush=True)
            return True
        self.update_interest()
        print(f"ok {word}", flush=True)
        return True

    def run(self):
        self.sel.register(sys.stdin, selectors.EVENT_READ)
        print(f"ready {self.listen_port}", flush=True)
        commands = b""
        while True:
            self.update_interest()
            for key, events in self.sel.select(timeout=0.5):
                if key.fileobj is sys.stdin:
                    # Raw reads: a buffered readline could keep a second line where select() cannot see it.
                    data = os.read(sys.stdin.fileno(), 4096)
                    if not data:
                        return
                    commands += data
                    while b"\n" in commands:
                        line, commands = commands.split(b"\n", 1)
                        if not self.command(line.decode()):
                            return
                elif key.fileobj is self.listener:
                    self.accept()
                elif key.fileobj in self.peer:
                    self.transfer(key.fileobj, events)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    relay = Relay(int(args[0]), int(args[1]), "--frozen" in sys.argv)
    try:
        relay.run()
    finally:
        for client, _ in list(relay.pairs):
            relay.close_pair(client)


if __name__ == "__main__":
    main()
