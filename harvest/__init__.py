"""harvest: a living catalog of commercial satellite imagery, and the orders that buy it."""
