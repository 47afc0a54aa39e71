# engram backup: a consistent, checked copy of a live SQLite store in a new file.

$ engram demo > /dev/null && engram --db sqlite://live.db episode start --task "Back me up" > /dev/null && engram --db sqlite://live.db backup --to copy.db | sed 's/in [0-9.]* s/in N s/'
backed up to copy.db in N s, integrity ok: 1 episode(s), 0 step(s)

$ engram --db copy.db episode list | tail -1 | awk '{print $2, $NF}'
open up

$ engram --db sqlite://live.db backup --to copy.db
error: copy.db exists: a backup goes to a new file
[exit 1]

$ ls copy.db*
copy.db
