"""Running the whole mesh on one machine: processes, Envoy's config, the demo merchant."""
