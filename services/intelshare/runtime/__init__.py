"""What every service runs on: settings, Kafka clients, lifecycle, event log, audit, topics.

Imports contract and network.
"""
