"""Loopback HTTP doubles of the services hcap talks to, driven through the real client libraries."""
