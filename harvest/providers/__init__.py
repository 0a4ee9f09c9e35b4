"""Provider access: the shared HTTP layer (secrets, errors, auth, retries, paging, settings) and the clients."""
