"""Deployment helpers: the `make prod-local` topology (nginx, API processes, PostGIS primary
and streaming replica on loopback), its bounded load check, and the compose seed job."""
