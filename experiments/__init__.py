"""experiments: the lab. The Hydra app, Ray fan-out and MLflow recording live here and only here."""
