"""Ray Tune over the DRL weights: the search space, the trials and the search driver."""
