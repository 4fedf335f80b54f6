"""The dataset layer: the guide assembled into one dataset of named graphs, its description, its entailments,
its dumps, and its persistent (versioned) form on disk.
"""
