from harvest.sandbox.app import ProviderMount, Sandbox


def mounts(sandbox: Sandbox) -> list[ProviderMount]:
    return []
