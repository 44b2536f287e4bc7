"""The client of the dialogue engine (the Rasa server)."""
