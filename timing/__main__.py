from timing.cli import run

run()
