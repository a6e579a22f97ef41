"""What the course knows about a built model: its layer names, its layer table, how it scores, where it is saved."""
