# engram suggest: what an open episode might call next, from what similar past episodes did.

$ engram import $TRANSCRIPT_DIR/data/chats.json --format openai-chat > /dev/null 2>&1; echo imported
imported

$ engram episode start --task "Book a flight to Oslo"
{{uuid:A}}

# Before any call: the first call of the similar bookings.
$ engram suggest $A --k 1 --json
{
  "suggestions": [
    {
      "tool": "search_flights",
      "score": {{*}},
      "support": 2,
      "success_rate": {{*}},
      "example_action": "{\"to\":\"OSL\",\"date\":\"2026-05-03\"}",
      "why": "search_flights was the first call in 2 of the 2 most similar past episodes (the closest: \"Book a flight from Paris to Oslo on May 3\")"
    }
  ]
}

# The search failed on the date format: the recovery the past booking made comes first, with
# the learnt error recovery named; booking after a successful search comes later.
$ engram episode log-step $A --tool search_flights --action '{"to":"OSL"}' --failure --observation "Error: date must be DD/MM/YYYY" > /dev/null && engram suggest $A
 1. {{*}}  search_flights  (support 1, {{*}} success)
      e.g. {"to":"OSL","date":"03/05/2026"}
      why: search_flights followed search_flights in 1 of the 2 most similar past episodes (the closest: "Book a flight from Paris to Oslo on May 3"); search_flights failing with "error: date must be <path>" was recovered by llm > search_flights in 1 episode(s) (100% success)
 2. {{*}}  book  (support 1, 100% success)
      e.g. {"flight":"AF1174"}
      why: book followed search_flights in 1 of the 2 most similar past episodes (the closest: "I need a flight to Oslo from Paris next Friday")

# After a successful search: booking.
$ engram episode log-step $A --tool search_flights --action '{"to":"OSL","date":"03/05/2026"}' --observation "SK832 189 EUR" > /dev/null && engram suggest $A --k 1 --json | grep '"tool"'
      "tool": "book",

# A completed episode may be asked too.
$ engram episode complete $A --outcome success > /dev/null && engram suggest $A --k 1 --json | grep -c '"tool"'
1

$ engram suggest $A --k 21
error: k must be 1 to 20, got 21
[exit 1]

$ engram suggest not-an-id
error: episode id "not-an-id" is malformed: expected a UUID like 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f
[exit 1]

$ engram suggest 0190a000-0000-7000-8000-000000000009
error: episode 0190a000-0000-7000-8000-000000000009 not found
[exit 1]
