"""Provider responses turned into scene-catalog rows (record batches of SCENE_SCHEMA), one module per provider.

Every normaliser handles its provider's quirks (docs/providers.md): timestamp precisions down to
nanoseconds and without zones, link objects or lists, missing fields, footprints across ±180°.
"""
