"""Insight for customer-experience leads: what the bot did with each question, citizens' feedback,
knowledge gaps, emerging-issue alerts, and the dashboard that shows them."""
