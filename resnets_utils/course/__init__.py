"""The course's notebooks as data: reading them, the reference solution, lessons' answers, measured figures."""
