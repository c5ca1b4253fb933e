"""The Global Organized Crime Index's country profile and factsheet."""
