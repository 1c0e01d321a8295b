#!/usr/bin/env python3
"""Spoofed OpenVPN session starts for the e2e flood case (root, inside the client namespace).

    flood.py DST_IP PORT COUNT RATE

Sends COUNT 14-byte P_CONTROL_HARD_RESET_CLIENT_V2 packets (key 0, a fresh session id each, no
acks, message 0) to DST_IP:PORT at RATE per second, from 10,000 spoofed sources: 100 addresses
in 10.123.0.0/16 times 100 ports. Raw IPv4 with IP_HDRINCL; the kernel fills in the header
checksum, length and id; the UDP checksum is 0 (none). Prints "flood: started" first and
"flood: sent N" at the end.
"""

import os
import socket
import struct
import sys
import time


def main() -> int:
    dst, port, count, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    dst_b = socket.inet_aton(dst)
    print("flood: started", flush=True)
    start = time.monotonic()
    sent = 0
    while sent < count:
        batch = min(500, count - sent)
        for i in range(sent, sent + batch):
            src = bytes([10, 123, 0, 1 + i % 100])
            sport = 20000 + (i // 100) % 100
            payload = b"\x38" + os.urandom(8) + b"\x00" + b"\x00\x00\x00\x00"
            udp = struct.pack("!HHHH", sport, port, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst_b)
            s.sendto(ip + udp, (dst, 0))
        sent += batch
        # Keep to the rate.
        ahead = sent / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    print(f"flood: sent {sent} in {time.monotonic() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
