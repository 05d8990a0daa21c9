"""Inference: predictor, output writers and the predict command."""
