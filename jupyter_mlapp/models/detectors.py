"""A tiny detection model in NumPy/SciPy: bright blobs on a dark background, as boxes.

It gives the image path of the API a real detector to serve (``rois``, scores, class names)
without a deep-learning framework; it is stored with skops like any scikit-learn estimator.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.base import BaseEstimator


class BlobDetector(BaseEstimator):
    """Finds connected regions brighter than ``threshold`` (pixel values in [0, 1]).

    ``fit`` learns nothing but the class name; ``detect`` returns, per image, the boxes
    ``[y_min, x_min, y_max, x_max]`` (max exclusive, as Mask R-CNN's rois), each region's mean
    brightness as its score, and the class name.
    """

    def __init__(self, threshold: float = 0.5, min_area: int = 4, class_name: str = "blob"):
        self.threshold = threshold
        self.min_area = min_area
        self.class_name = class_name

    def fit(self, images=None, y=None):
        self.classes_ = np.array([self.class_name])
        return self

    def detect(self, images) -> list[dict]:
        found = []
        for image in images:
            image = np.asarray(image, dtype=np.float32)
            if image.ndim == 3:
                image = image.mean(axis=2)
            labels, _count = ndimage.label(image > self.threshold)
            rois, scores = [], []
            for index, box in enumerate(ndimage.find_objects(labels), start=1):
                region = labels[box] == index
                if region.sum() < self.min_area:
                    continue
                rois.append([box[0].start, box[1].start, box[0].stop, box[1].stop])
                scores.append(float(image[box][region].mean()))
            found.append({"class_name": [self.class_name] * len(rois), "scores": scores, "rois": rois})
        return found
