#!/usr/bin/env python3
"""Drive runfd's dashboard in headless Chromium, as a person would: load
URL (with the API token as a bearer header), wait for FUNCTION's row,
type BODY into the invoke form, press Invoke, wait for the answer, keep a
screenshot at SHOT, and print the row's cells and the answer as JSON.
Chromium is talked to over --remote-debugging-pipe (the DevTools
protocol on fds 3 and 4): no library, no network port."""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

url, token, function, body, shot = sys.argv[1:6]

profile = tempfile.mkdtemp(prefix="runfd-chromium.")
to_browser_r, to_browser_w = os.pipe()
from_browser_r, from_browser_w = os.pipe()
os.set_inheritable(to_browser_r, True)
os.set_inheritable(from_browser_w, True)


def child_fds():
    os.dup2(to_browser_r, 3)
    os.dup2(from_browser_w, 4)


browser = subprocess.Popen(
    ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--remote-debugging-pipe",
     "--window-size=1100,800", "about:blank"],
    # fds 3 and 4 are set up after the fork: none may be closed then.
    preexec_fn=child_fds, close_fds=False,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_browser_r)
os.close(from_browser_w)
out = os.fdopen(to_browser_w, "wb", buffering=0)
inp = os.fdopen(from_browser_r, "rb", buffering=0)
pending = b""
next_id = 0


def send(method, params=None, session=None):
    global next_id, pending
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params or {}}
    if session:
        msg["sessionId"] = session
    out.write(json.dumps(msg).encode() + b"\0")
    while True:
        while b"\0" not in pending:
            chunk = inp.read(65536)
            if not chunk:
                raise SystemExit("chromium went away")
            pending += chunk
        raw, pending = pending.split(b"\0", 1)
        reply = json.loads(raw)
        if reply.get("id") == next_id:
            if "error" in reply:
                raise SystemExit("%s: %s" % (method, reply["error"]))
            return reply.get("result", {})


def evaluate(session, expr):
    r = send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True}, session)
    return r.get("result", {}).get("value")


def wait_for(session, expr, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if evaluate(session, expr):
            return
        time.sleep(0.2)
    raise SystemExit("timed out waiting for " + what)


try:
    target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    send("Network.enable", {}, session)
    send("Network.setExtraHTTPHeaders", {"headers": {"Authorization": "Bearer " + token}}, session)
    send("Page.enable", {}, session)
    send("Page.navigate", {"url": url}, session)
    row = "document.querySelector('#functions tr[data-name=%s]')" % json.dumps(function)
    wait_for(session, row + " !== null", "the function's row")
    wait_for(session, "document.getElementById('invoke-name').value === %s" % json.dumps(function), "the form")
    evaluate(session, "document.getElementById('invoke-path').value = '/echo';"
                      "document.getElementById('invoke-body').value = %s;"
                      "document.getElementById('invoke-go').click(); true" % json.dumps(body))
    wait_for(session, "document.getElementById('result').textContent.startsWith('200')", "the answer")
    # The next refresh counts the call.
    wait_for(session, row + ".cells[7].textContent !== '0'", "the invocation count")
    result = {
        "row": evaluate(session, "[...%s.cells].map(c => c.textContent)" % row),
        "answer": evaluate(session, "document.getElementById('result').textContent"),
        "logs": evaluate(session, "document.getElementById('logs').textContent"),
        "error": evaluate(session, "document.getElementById('error').textContent"),
    }
    png = send("Page.captureScreenshot", {"format": "png"}, session)["data"]
    with open(shot, "wb") as f:
        f.write(base64.b64decode(png))
    print(json.dumps(result))
finally:
    try:
        send("Browser.close")
    except BaseException:
        pass
    try:
        browser.wait(timeout=10)
    except subprocess.TimeoutExpired:
        browser.kill()
    subprocess.run(["rm", "-rf", profile])
