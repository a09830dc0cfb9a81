"""The visualisation engine: objectives, parameterisations and transforms, and the batched loop."""
