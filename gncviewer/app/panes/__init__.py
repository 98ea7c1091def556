"""The explorer's panes; each creates its plot items once and afterwards only updates their data."""
