"""Benchmark tasks (lm-eval task folders), metrics, submissions and leaderboard."""
