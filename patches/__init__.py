"""The patch catalogue: one module per patched standard-library module, with its replacements and its swap
table. Shipped as ``aiologic.patches``; the engine that applies them lives in ``aiologic``."""
