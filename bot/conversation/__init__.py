"""The conversation: citizen messages in (intake), one turn at a time through typed steps (worker,
pipeline), and replies out (sender)."""
