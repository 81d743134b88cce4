"""Weather data: sources, formats, observations and grids."""
