"""State functions keep between calls: secrets (issue 23; KV, async calls and crons later)."""
