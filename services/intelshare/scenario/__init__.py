"""Scenario files: model, reading with positions, checks, expectations, timeline, generator.

Imports contract and network.
"""
