"""The contact centre: hand-off from the bot, queues with opening hours, agents, the console."""
