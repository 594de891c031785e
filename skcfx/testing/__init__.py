"""Hypothesis strategies and assertions to property-test explainers."""
