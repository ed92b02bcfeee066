"""The network of countries and agreements, its loader, and the sharing policy.

Imports contract.
"""
