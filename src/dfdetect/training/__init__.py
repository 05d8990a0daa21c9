"""Training: device layer, LightningModule, callbacks and the train recipe."""
