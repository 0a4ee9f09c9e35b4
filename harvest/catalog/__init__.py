"""The scene catalog: one Arrow schema for every provider, and its GeoParquet files."""
