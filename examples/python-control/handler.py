#!/usr/bin/python3
"""A Python function over runfd's control socket: it connects to
/control.sock at start, receives the client's connection as an SCM_RIGHTS
fd (socket.recv_fds), serves that one request and exits: `runfctl fn
deploy NAME IMAGE --mode control-socket`.  GET answers a greeting with the
path, POST echoes the body.  The function is examples/python/function.py;
this script only starts it, since Python compiles the script it runs at
every start and loads what it imports from precompiled .pyc files."""
import function

function.main("control-socket")
