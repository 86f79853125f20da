"""The Custom CD wire contract: the record model, its problems, times and statuses."""
