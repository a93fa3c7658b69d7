"""Models: classifiers (and, later, encoders and word2vec)."""
