"""The sources layer: where the hand-edited sources are, and the readers of them and of untrusted files.

Nothing here imports from a layer above (dataset, validation, partners, serve, remote, cli).
"""
