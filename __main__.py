"""acr-streaming-ab: read the stack's config once, build its scenario, export the outputs."""

import pulumi

from stacks.config import load_stack_config
from stacks.program import build

# Raises ConfigError, naming every bad key, before any resource is declared.
config = load_stack_config()

for name, value in build(config, pulumi.get_stack()).items():
    pulumi.export(name, value)
