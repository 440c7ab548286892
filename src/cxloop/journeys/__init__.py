"""Customer journeys: definitions, placement of interactions, maps and paths."""
