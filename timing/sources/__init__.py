"""Where pods and events come from: kubectl dumps, results folders, a live cluster."""
