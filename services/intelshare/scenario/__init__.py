"""Scenario files: model, reading with positions, checks, expectations, timeline, generator.

Imports contract, network and the top-level yamlpos (the positioned YAML reader).
"""
