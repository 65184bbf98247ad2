#!/usr/bin/env python3
"""Sends N requests for GET /small, each on a new connection with `Connection: close`,
one at a time, and prints "<ok> succeeded, <failed> failed" (alloc_profile.sh CLOSE=1).

    one_request_per_connection.py PORT N
"""
import socket
import sys

REQUEST = b"GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def one_request(port):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(REQUEST)
        response = bytearray()
        while chunk := s.recv(65536):
            response += chunk
    return response.startswith(b"HTTP/1.1 200 ")


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    ok = sum(one_request(port) for _ in range(n))
    print(f"{ok} succeeded, {n - ok} failed")


if __name__ == "__main__":
    main()
