"""Dataset-card templates (YAML front matter with configs:, then prose), filled from build stats."""
