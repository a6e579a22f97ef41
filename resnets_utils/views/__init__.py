"""What the notebooks show: figures, diagrams and interactive widgets."""
