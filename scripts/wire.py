#!/usr/bin/env python3
"""An emulated network for scripts/simulate_cluster where the kernel has no netem: every host's
link has a rate and a one-way delay, applied to each packet in user space.

    wire.py --hosts N --rate 1gbit --delay 1ms [--mtu 65000]

Makes one TUN device per host, moves it into the host's network namespace nnh0…nnh(N-1) (made
beforehand) as eth0 with the address 10.77.0.K/24, and one more in this namespace (10.77.0.254,
for mpirun and its daemons), then forwards IP packets between them: a packet from host i waits
until host i's link is free, takes size·8/rate seconds to send, and arrives `delay` later (a
store-and-forward link per sender, an unlimited queue, no loss). Prints "ready" when the devices
are up, and runs until SIGTERM or SIGINT.
"""
import argparse
import fcntl
import heapq
import os
import select
import signal
import struct
import subprocess
import sys
import time

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000


def amount(text, units):
    for unit, scale in units:
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)


def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def ip(*args):
    subprocess.run(["ip", *args], check=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hosts", type=int, required=True)
    p.add_argument("--rate", required=True, help="e.g. 1gbit, 10gbit, 100mbit")
    p.add_argument("--delay", required=True, help="one-way delay, e.g. 0.1ms, 1ms")
    p.add_argument("--mtu", type=int, default=65000)
    a = p.parse_args()
    rate = amount(a.rate, [("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3)])
    delay = amount(a.delay, [("ms", 1e-3), ("us", 1e-6), ("s", 1.0)])
    fds, address = [], {}
    for i in range(a.hosts + 1):
        name = "nnt%d" % i
        fds.append(tun(name))
        host = "10.77.0.%d" % (i + 1 if i < a.hosts else 254)
        address[bytes(int(x) for x in host.split("."))] = i
        if i < a.hosts:
            ip("link", "set", name, "netns", "nnh%d" % i)
            ip("-n", "nnh%d" % i, "link", "set", name, "name", "eth0")
            ip("-n", "nnh%d" % i, "link", "set", "eth0", "mtu", str(a.mtu), "up")
            ip("-n", "nnh%d" % i, "addr", "add", host + "/24", "dev", "eth0")
            ip("-n", "nnh%d" % i, "link", "set", "lo", "up")
        else:
            ip("link", "set", name, "mtu", str(a.mtu), "up")
            ip("addr", "add", host + "/24", "dev", name)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print("ready", flush=True)
    free = [0.0] * len(fds)  # when each sender's link is next free
    queue, seq = [], 0
    fd_index = {fd: i for i, fd in enumerate(fds)}
    while not stop:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, dst, packet = heapq.heappop(queue)
            try:
                os.write(fds[dst], packet)
            except OSError:
                pass  # the device is gone or full: the packet is lost, as on a wire
        timeout = max(0.0, queue[0][0] - now) if queue else 0.5
        try:
            ready, _, _ = select.select(fds, [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd in ready:
            src = fd_index[fd]
            while True:
                try:
                    packet = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    break
                if len(packet) < 20 or packet[0] >> 4 != 4:
                    continue  # IPv4 only
                dst = address.get(packet[16:20])
                if dst is None:
                    continue
                start = max(now, free[src])
                free[src] = start + len(packet) * 8 / rate
                seq += 1
                heapq.heappush(queue, (free[src] + delay, seq, dst, packet))


if __name__ == "__main__":
    main()
