# engram serve: refusing what it must refuse before it listens, and stopping cleanly on SIGTERM.

$ engram serve --listen 0.0.0.0:0
error: listening on 0.0.0.0 (beyond loopback) needs a bearer token: pass --token-file
[exit 1]

$ engram serve --listen nope
error: --listen must be HOST:PORT, got "nope"
[exit 2]

$ engram serve --listen 127.0.0.1:99999
error: --listen port must be 0 to 65535, got "99999"
[exit 2]

$ printf '' > empty.token && chmod 600 empty.token && engram serve --listen 0.0.0.0:0 --token-file empty.token
error: --token-file empty.token is empty
[exit 1]

# A token that its group or others can read is refused, as ssh refuses such a key.
$ printf 's3cret' > open.token && chmod 640 open.token && timeout 10 engram serve --listen 0.0.0.0:0 --token-file open.token
error: --token-file open.token is open to its group or others (mode 0640): run chmod 600 open.token
[exit 1]

$ (engram serve --listen 127.0.0.1:0 > out.txt & pid=$!; for i in $(seq 200); do grep -q serving out.txt && break; sleep 0.1; done; kill -TERM $pid; wait $pid; echo "exit $?"; head -1 out.txt)
exit 0
engram serving http://127.0.0.1:{{int}}

# Clients that never finish (headers trickled, a body cut short, a connection left idle) do not
# hold SIGTERM up: the server exits within 10 s, cleanly.
$ (engram serve --listen 127.0.0.1:0 > out2.txt & pid=$!; for i in $(seq 200); do grep -q serving out2.txt && break; sleep 0.1; done; port=$(sed -n 's/^engram serving http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' out2.txt); python3 -c 'import socket, sys, time; p = int(sys.argv[1]); c = [socket.create_connection(("127.0.0.1", p)) for _ in range(200)]; [s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" if i % 2 else b"POST /v1/episodes HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n{") for i, s in enumerate(c)]; print("connected", flush=True); time.sleep(60)' $port > clients.txt & clients=$!; for i in $(seq 100); do grep -q connected clients.txt && break; sleep 0.1; done; start=$(date +%s); kill -TERM $pid; wait $pid; echo "exit $?"; end=$(date +%s); kill $clients; [ $((end - start)) -lt 10 ] && echo "stopped within 10 s")
exit 0
stopped within 10 s

# OpenTelemetry: with --otlp-completion-delay 0 the root span completes its episode at once.
$ (engram serve --listen 127.0.0.1:0 --otlp-completion-delay 0 > out3.txt & pid=$!; for i in $(seq 200); do grep -q serving out3.txt && break; sleep 0.1; done; port=$(sed -n 's/^engram serving http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' out3.txt); python3 -c 'import json, sys, urllib.request; span = lambda i, parent, name, op: {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "%016x" % i, "parentSpanId": parent, "name": name, "startTimeUnixNano": str(1764680000000000000 + i), "endTimeUnixNano": str(1764680000000000000 + 10 * i), "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": op}}]}; body = {"resourceSpans": [{"scopeSpans": [{"spans": [span(2, "%016x" % 1, "execute_tool ls", "execute_tool"), span(1, "", "invoke_agent shell", "invoke_agent")]}]}]}; r = urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/v1/traces" % sys.argv[1], json.dumps(body).encode(), {"Content-Type": "application/json"})); print(r.status, r.read().decode())' $port; kill -TERM $pid; wait $pid; echo "exit $?")
200 {}
exit 0

$ engram episode list
ID                                    STATUS     OUTCOME          STARTED                   TASK
{{uuid}}  completed  success          {{*}}  invoke_agent shell

# With the default delay (2 s), the root's episode waits for late spans; a server stopped
# meanwhile completes it as it stops.
$ (engram serve --listen 127.0.0.1:0 > out4.txt & pid=$!; for i in $(seq 200); do grep -q serving out4.txt && break; sleep 0.1; done; port=$(sed -n 's/^engram serving http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' out4.txt); python3 -c 'import json, sys, urllib.request; span = lambda i, parent, name, op: {"traceId": "0af7651916cd43dd8448eb211c80319d", "spanId": "%016x" % i, "parentSpanId": parent, "name": name, "startTimeUnixNano": str(1764680000000000000 + i), "endTimeUnixNano": str(1764680000000000000 + 10 * i), "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": op}}]}; body = {"resourceSpans": [{"scopeSpans": [{"spans": [span(2, "%016x" % 1, "execute_tool ls", "execute_tool"), span(1, "", "invoke_agent build", "invoke_agent")]}]}]}; r = urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/v1/traces" % sys.argv[1], json.dumps(body).encode(), {"Content-Type": "application/json"})); print(r.status, r.read().decode())' $port; kill -TERM $pid; wait $pid; echo "exit $?")
200 {}
exit 0

$ engram episode list
ID                                    STATUS     OUTCOME          STARTED                   TASK
{{uuid}}  completed  success          {{*}}  invoke_agent build
{{uuid}}  completed  success          {{*}}  invoke_agent shell
