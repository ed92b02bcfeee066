"""The network of countries and agreements, its loader, topic names, policy and ACLs.

Imports contract (markings, alert records) only.
"""
