#!/usr/bin/python3
"""A Python function as an ordinary HTTP server (http.server, standard
library only) on 0.0.0.0:$PORT, default 8080: `runfctl fn deploy NAME
IMAGE --mode http`.  GET answers a greeting with the path, POST echoes the
body.  The function is examples/python/function.py, the server
examples/python/server.py; this script only starts them, since Python
compiles the script it runs at every start and loads what it imports from
precompiled .pyc files."""
import function

function.main("http")
