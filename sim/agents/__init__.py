"""The people of the simulated world: reps, managers and sales ops, each an agent with a calendar."""
