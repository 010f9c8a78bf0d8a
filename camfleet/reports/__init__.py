"""Reports the town's plan asks for: budget per khu phố, retention per recorder."""
