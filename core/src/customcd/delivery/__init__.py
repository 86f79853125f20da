"""Getting a record to the webhook: outbox and ledger, sender, retry policy, HTTP client."""
