"""Replaying a scenario on Kafka: the engine, its clock, its Kafka edge and its rendering.

Imports scenario, contract, network, runtime, producer and consumer.
"""
