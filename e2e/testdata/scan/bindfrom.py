#!/usr/bin/env python3
"""bindfrom.py ADDR TOOL ARGS...: run (with the tool's own interpreter) a sipvicious tool with its socket bound
to source address ADDR. sipvicious 0.3.3's svcrack and svwar accept -b but
never pass it to their socket (svmap does), so on loopback they would all
send from 127.0.0.1."""
import os
import runpy
import shutil
import socket
import sys

addr, tool = sys.argv[1], sys.argv[2]
_bind = socket.socket.bind


def bind(self, address):
    if isinstance(address, tuple) and address[0] in ("", "0.0.0.0"):
        address = (addr,) + tuple(address[1:])
    return _bind(self, address)


socket.socket.bind = bind
path = os.path.realpath(shutil.which(tool) or tool)
sys.path.insert(0, os.path.dirname(path))  # as when the tool runs itself
sys.argv = [os.path.basename(path)] + sys.argv[3:]
runpy.run_path(path, run_name="__main__")
