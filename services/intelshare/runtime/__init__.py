"""What every service needs to run: settings, Kafka clients and their security, lifecycle."""
