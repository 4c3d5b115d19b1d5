"""Runnable examples; each runs live with a provider key set, or offline against the emulator."""
