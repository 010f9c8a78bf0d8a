"""The simulated town: every device of an inventory alive on loopback, speaking its real protocols."""
