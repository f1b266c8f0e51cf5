"""The stack configuration model: one typed, frozen pydantic model per config object, declared once.

`StackConfig.model_validate(values)` checks shapes, single fields (Annotated types in `fields.py`) and
cross-field rules (model validators, one module per topic, all re-exported by `model.py`);
`errors.problems_of` turns any failure into lines `acr-streaming-ab:<key path>: <what>; allowed: …`. Scenario defaults and reading the running stack
live in `stacks/` (the top layer); this package imports only `contract`.
"""
