"""One routes module per surface: channels, web chat, console, dashboard, actions, health."""
