"""Lightning training of ATFT-GAT-FAN: data module, LightningModule and the pipeline adapter."""
