"""What every service needs to run: settings, Kafka clients and security, lifecycle, logs.

Imports contract (event and header names) and network (topic names, the network file).
"""
