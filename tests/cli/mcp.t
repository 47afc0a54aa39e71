# engram mcp: the MCP server over stdio, one JSON-RPC message a line each way. Notifications
# get no reply; a malformed line gets a parse error and the session goes on.

$ printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' '{"jsonrpc":"2.0","method":"notifications/initialized"}' 'not json' '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"start_episode","arguments":{"task":"fix it"}}}' '{"jsonrpc":"2.0","id":3,"method":"resources/list"}' '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_episode","arguments":{"episode_id":"abc"}}}' | engram mcp
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"engram","version":"{{*}}"},"instructions":"{{*}}"}}
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the message is not valid JSON: parse error at line 1, column 2: {{*}}"}}
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\n  \"episode_id\": \"{{uuid:E}}\"\n}"}],"isError":false,"structuredContent":{"episode_id":"{{uuid}}"}}}
{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found: resources/list"}}
{"jsonrpc":"2.0","id":4,"result":{"content":[{"type":"text","text":"episode id \"abc\" is malformed: expected a UUID like 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f"}],"isError":true}}

$ engram episode show $E --json | grep -c '"task": "fix it"'
1
