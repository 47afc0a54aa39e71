# engram migrate: a whole store copied to another, every table's rows counted on both sides.
# On the PostgreSQL run ENGRAM_DB is a PostgreSQL database, so this copies SQLite to
# PostgreSQL and back.

$ engram --db src.db demo > /dev/null && engram --db src.db episode start --task "still open" --tag a > /dev/null && engram --db src.db episode list | wc -l
5

$ engram migrate --from src.db --to "$ENGRAM_DB" | sed 's/ in [0-9.]* s$/ in T s/; s/^copied src.db to .* in/copied src.db to ENGRAM_DB in/'
copied src.db to ENGRAM_DB in T s

table                   source      target
episodes                     4           4
steps                       20          20
patterns                    56          56
episode_patterns             3           3
pattern_domains             63          63
episode_names                0           0

every table holds as many rows in the target as in the source

# The copy exports the same bytes (ids, step numbers, timestamps, rewards, reflections) and
# lists the same patterns with the same evidence.
$ engram --db src.db export | sort > src.jsonl && engram export | sort | cmp - src.jsonl && echo identical
identical

$ engram --db src.db --json pattern list > src-patterns.json && engram --json pattern list | cmp - src-patterns.json && echo identical
identical

# And back again, from the default store (--db, ENGRAM_DB) to a new file.
$ engram --json migrate --to back.db | grep -A2 '"steps"'
    "steps": {
      "source": 20,
      "target": 20

$ engram --db back.db export | sort | cmp - src.jsonl && engram --db back.db --json pattern list | cmp - src-patterns.json && echo identical
identical

$ engram --db back.db recall "flaky integration test" --k 1 | head -1
 1. 0.80  Fix the flaky integration test test_concurrent_downloads  [success, reward 0.96]

# Into a store that holds episodes: refused, the target unchanged.
$ engram migrate --from src.db --to back.db
error: target back.db already holds 4 episodes and 56 patterns; migrate copies into an empty store
[exit 1]

$ engram migrate --from missing.db --to new.db
error: source missing.db: no such file missing.db
[exit 1]

$ test -e new.db || echo "new.db not created"
new.db not created

$ engram migrate --from src.db --to src.db
error: --from and --to name the same store: src.db
[exit 1]

$ engram migrate --from src.db --to sqlite::memory:
error: --to sqlite::memory: is a database of this process alone; migrate copies between stored ones
[exit 1]

# A password in a URL is not printed.
$ engram migrate --from src.db --to "postgres://engram:secret@127.0.0.1:1/none?connect_timeout=2" 2>&1 | sed 's/PostgreSQL: .*/PostgreSQL: .../'
error: target postgres://engram:***@127.0.0.1:1/none?connect_timeout=2: cannot connect to PostgreSQL: ...

$ engram migrate --from src.db
error: --to is required (see --help)
[exit 2]
