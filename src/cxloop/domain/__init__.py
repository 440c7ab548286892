"""Pure domain: entities, vocabularies, metric formulas and their statistics. No I/O."""
