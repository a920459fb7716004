"""The synthetic evaluation set (``paqshot_server.imaging.synthetic``, where the int8 cut-out model's calibration
takes it from), under the name the benchmarks and tests import."""

from paqshot_server.imaging.synthetic import FAMILIES, OBJECTS, Sample, edge_mae, iou, mae, make_sample, samples

__all__ = ["FAMILIES", "OBJECTS", "Sample", "edge_mae", "iou", "mae", "make_sample", "samples"]
