"""Domain events: transactional outbox, in-process message bus, relay to NATS JetStream."""
