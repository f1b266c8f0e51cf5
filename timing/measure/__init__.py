"""`measure`: discover arms, reset caches, run trials, show progress."""
