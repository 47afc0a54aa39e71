# Every bad input gets one clear line on stderr naming the field, the limit and the value, and a
# non-zero exit; nothing rejected is written.

$ engram episode start --task "Bad input"
{{uuid:ID}}

$ engram episode log-step $ID --tool "" --action build
error: tool is empty
[exit 1]

$ engram episode log-step $ID --tool cargo --action build --observation "$(head -c 70000 /dev/zero | tr '\0' x)"
error: observation is 70000 bytes, limit 65536 bytes
[exit 1]

# Limits are inclusive: exactly 65536 bytes is accepted.
$ engram episode log-step $ID --tool cargo --action build --observation "$(head -c 65536 /dev/zero | tr '\0' x)"
step 1 logged to {{uuid}}

$ engram episode log-step $ID --tool cargo --action "$(head -c 4097 /dev/zero | tr '\0' a)"
error: action is 4097 bytes, limit 4096 bytes
[exit 1]

$ engram episode log-step $ID --tool "$(head -c 129 /dev/zero | tr '\0' t)" --action x
error: tool is 129 bytes, limit 128 bytes
[exit 1]

$ engram episode log-step $ID --tool cargo --action build --parameters '[1, 2]'
error: parameters must be a JSON object, got an array
[exit 1]

$ engram episode log-step $ID --tool cargo --action build --parameters '{"jobs": '
error: parameters is not valid JSON: parse error at line 1, column 10: syntax error while parsing value - unexpected end of input; expected {{*}}
[exit 1]

$ engram episode log-step $ID --tool cargo --action build --observation "$(printf 'bad \377 byte')"
error: observation is not valid UTF-8: byte 0xff at offset 4
[exit 1]

$ engram episode log-step $ID --tool cargo --action build --latency-ms -5
error: latency_ms must be an integer from 0 to 9007199254740991, got -5
[exit 1]

$ engram episode log-step $ID --tool cargo --action build --latency-ms fast
error: latency_ms must be an integer from 0 to 9007199254740991, got "fast"
[exit 2]

$ engram episode log-step $ID --tool cargo --action build --tokens -1
error: tokens must be an integer from 0 to 9007199254740991 or null, got -1
[exit 1]

# Parameters over 1 MiB can only come through stdin.
$ { printf '{"tool":"x","parameters":{"blob":"'; head -c 1048600 /dev/zero | tr '\0' p; printf '"}}\n'; } | engram episode log-steps $ID
error: line 1: parameters is 1048611 bytes, limit 1048576 bytes
no steps logged to {{uuid}}
error: 1 of 1 line(s) rejected
[exit 1]

# Ids: malformed and unknown.
$ engram episode log-step not-an-id --tool git --action status
error: episode id "not-an-id" is malformed: expected a UUID like 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f
[exit 1]

$ engram episode log-step 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f --tool git --action status
error: episode 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f not found
[exit 1]

$ engram episode show 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f
error: episode 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f not found
[exit 1]

$ engram episode delete 12345
error: episode id "12345" is malformed: expected a UUID like 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f
[exit 1]

# Enumerations list what they accept.
$ engram episode start --task x --type fixing
error: task_type must be one of code_generation, debugging, refactoring, testing, analysis, documentation, other, got "fixing"
[exit 1]

$ engram episode complete $ID --outcome great
error: outcome must be one of success, partial_success, failure, abstained, got "great"
[exit 1]

$ engram episode start --task ""
error: task is empty
[exit 1]

$ engram episode list --limit 0
error: limit must be between 1 and 10000, got 0
[exit 1]

$ engram episode list --limit 10001
error: limit must be between 1 and 10000, got 10001
[exit 1]

$ engram episode list --since yesterday
error: since must be an RFC 3339 timestamp like 2026-11-24T15:47:00.123Z, got "yesterday"
[exit 1]

$ engram episode list --outcome won
error: outcome must be one of success, partial_success, failure, abstained, got "won"
[exit 1]

$ engram episode list --outcome failure --status open
error: outcome applies to completed episodes: status must not be open
[exit 1]

# Usage errors exit 2.
$ engram episode log-step $ID --action build
error: --tool is required (see --help)
[exit 2]

$ engram episode log-step $ID --tool a --action b --success --failure
error: --success excludes --failure (see --help)
[exit 2]

# Nothing rejected above was written: the episode holds the one accepted step.
$ engram episode show $ID --json | grep -c '"step_number"'
1

# Databases that cannot be used.
$ engram --db sqlite:///nonexistent-dir/deeper/engram.db episode list
error: cannot open database /nonexistent-dir/deeper/engram.db: unable to open database file
[exit 1]

$ echo "my notes, not a database, long enough to fill a SQLite header and then some more" > notes.db && engram --db notes.db episode list
error: database notes.db is not an engram database (not a SQLite file, or corrupt): database notes.db: file is not a database
[exit 1]

$ sqlite3 invoices.db "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)" && engram --db sqlite://invoices.db episode list
error: database invoices.db is not an engram database (it holds 1 table(s) of another application)
[exit 1]

$ engram --db sqlite://fresh.db episode list && head -c 16 fresh.db | tr -d '\0' && echo && printf 'garbage garbage!' | dd of=fresh.db conv=notrunc status=none && engram --db sqlite://fresh.db episode list
no episodes
SQLite format 3
error: database fresh.db is not an engram database (not a SQLite file, or corrupt): database fresh.db: file is not a database
[exit 1]

$ engram --db mysql://localhost/engram episode list
error: database URL "mysql://localhost/engram" has an unknown scheme "mysql" (expected sqlite:///path/engram.db, sqlite::memory:, a file path, postgres://user@host:port/db or libpq's host=... dbname=...)
[exit 1]

$ engram episode bogus
error: unknown command or argument "bogus" (see --help)
[exit 2]

$ engram episode start --task x --bogus
error: The following argument was not expected: --bogus (see --help)
[exit 2]
