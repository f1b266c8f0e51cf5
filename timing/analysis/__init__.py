"""Classification, statistics and the report document built from pods and events."""
