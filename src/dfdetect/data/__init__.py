"""Manifests, dataset adapters, datasets and the LightningDataModule."""
