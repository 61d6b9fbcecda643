"""The coordinator's linkage stages: block, compare, cluster and find the cases."""
