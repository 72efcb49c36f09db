"""notifications domain: channels, subscriptions, the outbound allow-list and delivery tracking."""
