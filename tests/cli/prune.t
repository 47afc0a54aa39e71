# engram prune: old episodes removed by filter, what went (or would go) told; engram serve
# --retain does it on its own, and DELETE /v1/episodes takes the same filters.

# The demo's three episodes (started now), and four of 2025 imported beside them.
$ engram demo > /dev/null && python3 -c 'import json; [print(json.dumps({"task": t, "context": {"domain": d}, "status": "completed" if k else "open", "started_at": "2025-0%dT00:00:00.000Z" % (i + 1) + "", "ended_at": "2025-0%dT00:10:00.000Z" % (i + 1) if k else None, "outcome": {"kind": k, "summary": "done"} if k else None, "steps": [{"tool": "bash", "action": "make", "timestamp": "2025-0%dT00:00:00.000Z" % (i + 1)}] * (i + 1)})) for i, (t, d, k) in enumerate([("fix the parser", "cli", "success"), ("deploy the site", "web", "failure"), ("an abandoned refactor", "cli", None), ("tune the cache", "web", "success")])]' | sed 's/2025-0\([0-9]\)T/2025-0\1-15T/g' > old.jsonl && engram import old.jsonl
imported 4 episode(s), skipped 0 existing, rejected 0

$ engram prune --older-than 30d --dry-run
would remove 4 episode(s) and their 10 step(s), started before {{*}}
  completed          3   failure 1, success 2
  open               1
  started from 2025-01-15T00:00:00.000Z to 2025-04-15T00:00:00.000Z

$ engram episode list | grep -c 2025-0
4

$ engram prune --older-than 30d --outcome failure
removed 1 episode(s) and their 2 step(s), started before {{*}}
  completed          1   failure 1
  started from 2025-02-15T00:00:00.000Z to 2025-02-15T00:00:00.000Z
  space: {{*}} given back to the file system, {{*}} free in the store for reuse

$ engram prune --older-than 30d --domain cli --status open --json | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["dry_run"], r["episodes"], r["steps"], r["by_status"], r["oldest"])'
False 1 3 {'open': 1} 2025-03-15T00:00:00.000Z

# The demo's episodes are younger than a day: nothing of them goes.
$ engram prune --older-than 1d --domain nowhere
no episode started before {{*}} matches: nothing removed

$ engram episode list | awk 'NR > 1 {print $2, $4}' | sort
completed 2025-01-15T00:00:00.000Z
completed 2025-04-15T00:00:00.000Z
completed {{*}}
completed {{*}}
completed {{*}}

$ engram prune --older-than 5x
error: --older-than must be a duration such as 90d, 12h or 1h30m (units w, d, h, m, s), got "5x"
[exit 2]

$ engram prune --older-than 1d2d
error: --older-than must be a duration such as 90d, 12h or 1h30m (units w, d, h, m, s), got "1d2d"
[exit 2]

$ engram prune --dry-run
error: --older-than is required (see --help)
[exit 2]

$ engram prune --older-than 1d --status open --outcome success
error: outcome matches completed episodes only, and status is open: nothing could match
[exit 1]

$ engram prune --older-than 1d --outcome maybe
error: outcome must be one of success, partial_success, failure, abstained, got "maybe"
[exit 1]

# engram serve --retain 30d prunes as it starts (and every hour after), says so on stderr and
# counts it in /metrics; DELETE /v1/episodes prunes with the same filters.
$ (engram serve --listen 127.0.0.1:0 --retain 30d > out.txt 2> err.txt & pid=$!; for i in $(seq 200); do grep -q retention err.txt && break; sleep 0.1; done; port=$(sed -n 's/^engram serving http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' out.txt); python3 -c 'import http.client, json, sys; c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30); ask = lambda method, path: (c.request(method, path), c.getresponse())[1]; m = ask("GET", "/metrics").read().decode(); print([l for l in m.splitlines() if l.startswith(("engram_prune_runs_total", "engram_pruned_episodes_total"))]); r = ask("DELETE", "/v1/episodes?older_than=0s&dry_run=true"); print(r.status, json.loads(r.read())["episodes"]); [print(r.status, r.read().decode()) for r in (ask("DELETE", q) for q in ("/v1/episodes?status=open", "/v1/episodes?older_than=5x", "/v1/episodes?older_than=1d&dry_run=maybe", "/v1/episodes?older_than=1d&color=red"))]' $port; kill -TERM $pid; wait $pid; echo "exit $?"; grep retain out.txt; cat err.txt)
['engram_prune_runs_total{trigger="request"} 0', 'engram_prune_runs_total{trigger="retention"} 1', 'engram_pruned_episodes_total 2']
200 3
422 {"error":{"code":"invalid_argument","message":"older_than is required: a duration such as 90d (0s prunes every episode that matches)"}}
422 {"error":{"code":"invalid_argument","message":"older_than must be a duration such as 90d, 12h or 1h30m (units w, d, h, m, s), got \"5x\""}}
422 {"error":{"code":"invalid_argument","message":"dry_run must be true or false, got \"maybe\""}}
422 {"error":{"code":"invalid_argument","message":"prune has an unknown field \"color\" (known: older_than, status, outcome, domain, dry_run)"}}
exit 0
  retain     episodes started within 30d; older ones pruned hourly
engram serve: retention removed 2 episode(s) and 5 step(s) started before {{*}}

$ engram episode list | grep -c 2025-0
0
[exit 1]

$ engram serve --listen 127.0.0.1:0 --retain 5x
error: --retain must be a duration such as 90d, 12h or 1h30m (units w, d, h, m, s), got "5x"
[exit 2]
