"""Programs the tests run in a process of their own (another Keras backend, or a clean import),
as modules that ruff lints; each prints one JSON line for its test to judge."""
