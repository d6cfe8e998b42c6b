"""Decision rules of the agents, one module each: what to work on next, who gets a lead."""
