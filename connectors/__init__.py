"""Channel adapters: each verifies, parses and acknowledges inbound messages and sends replies."""
