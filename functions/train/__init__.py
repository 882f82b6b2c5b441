"""train: train, evaluate and promote the ensemble."""
