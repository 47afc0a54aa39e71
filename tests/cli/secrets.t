# Secrets are redacted before anything is stored: the detectors on by default, settings of the
# user's own in a JSON file (--redact-config, or $ENGRAM_REDACT_CONFIG).

$ engram episode start --task "Deploy with AKIAIOSFODNN7EXAMPLE"
{{uuid:ID}}

$ engram episode log-step $ID --tool bash --action "psql postgres://app:Sup3rS3cret@db/prod" --observation "export GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a" --parameters '{"headers":{"Authorization":"Bearer 8f2a9c41d7e3b6aa"}}' > /dev/null && engram episode show $ID --json | python3 -c 'import json, sys; e = json.load(sys.stdin); s = e["steps"][0]; print(e["task"]); print(s["action"]); print(s["observation"]); print(s["parameters"]); print(s["metadata"])'
Deploy with [REDACTED:aws_access_key]
psql postgres://app:[REDACTED:url_password]@db/prod
export GITHUB_TOKEN=[REDACTED:github_token]
{'headers': {'Authorization': 'Bearer [REDACTED:authorization]'}}
{'redacted': 'authorization:1, github_token:1, url_password:1'}

$ engram export | grep -c -e AKIAIOSFODNN7EXAMPLE -e Sup3rS3cret -e ghp_16C7e42F -e 8f2a9c41d7e3b6aa
0
[exit 1]

# Settings of one's own: a detector off, a pattern added, keys always masked.
$ printf '%s' '{"disabled": ["aws_access_key"], "patterns": {"employee_id": "\\bEMP-[0-9]{6}\\b"}, "masked_keys": ["x-session"]}' > redact.json && engram --redact-config redact.json episode start --task "Help EMP-123456 with AKIAIOSFODNN7EXAMPLE" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' > id2 && engram --redact-config redact.json episode log-step $(cat id2) --tool http --action get --parameters '{"x-session":"abc","page":2}' > /dev/null && engram episode show $(cat id2) --json | python3 -c 'import json, sys; e = json.load(sys.stdin); print(e["task"]); print(e["steps"][0]["parameters"])'
Help [REDACTED:employee_id] with AKIAIOSFODNN7EXAMPLE
{'page': 2, 'x-session': '[REDACTED:masked_key]'}

$ ENGRAM_REDACT_CONFIG=redact.json engram episode start --task "EMP-654321 again"  > /dev/null && engram episode list | grep -c "REDACTED:employee_id"
2

# Bad settings are an error naming the file and the field; nothing is stored.
$ printf '%s' '{"disabled": ["aws"]}' > bad.json && engram --redact-config bad.json episode start --task "x"
error: redaction.disabled names an unknown detector "aws" (known: private_key, aws_access_key, aws_secret_key, github_token, gitlab_token, slack_token, stripe_key, anthropic_key, openai_key, jwt, authorization, url_password, secret_assignment, high_entropy)
[exit 1]

$ printf '%s' '{"patterns": {"x": "(open"}}' > bad.json && engram --redact-config bad.json episode start --task "x"
error: redaction.patterns: "x" is not a valid RE2 pattern: missing ): (open
[exit 1]

$ printf '%s' '{"masked": []}' > bad.json && engram --redact-config bad.json episode start --task "x"
error: bad.json: unknown redaction setting "masked" (known: enabled, disabled, patterns, masked_keys)
[exit 1]

$ engram --redact-config missing.json episode start --task "x"
error: cannot read the redaction settings missing.json
[exit 1]
