"""The only HTTP layer: the app factory, named dependencies, console auth, and one routes module per
surface. Nothing below this package imports a web framework."""
