"""govbot: a multichannel government FAQ assistant (app package)."""
