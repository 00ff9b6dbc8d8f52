"""A client of the original hand-made Flask service, step by step as its users wrote it.

Only two things changed for jupyter-mlapp: the base URL (was ``http://localhost:5000``) and the
credentials header. Run: ``MLAPP_URL=... MLAPP_TOKEN=... python flask_client.py WORKDIR``; it
prints what it got as one JSON line.
"""

import base64
import json
import os
import sys

import requests

BASE_URL = os.environ["MLAPP_URL"]  # changed: was "http://localhost:5000"
HEADERS = {"Authorization": "token " + os.environ["MLAPP_TOKEN"]}  # added: credentials
work = sys.argv[1]
report = {}

# 1. Which algorithms does the server have?
r = requests.get(BASE_URL + "/models", headers=HEADERS)
r.raise_for_status()
report["algorithms"] = r.json()["algorithms"]

# 2. The weights of the detector trained on our collection, then its classes (form-encoded).
r = requests.post(
    BASE_URL + "/models",
    data={"algorithm": "blobs", "Model_path": "synthetic", "return_weights": True},
    headers=HEADERS,
)
report["weights"] = r.json()["weights"]
r = requests.post(
    BASE_URL + "/models",
    data={"algorithm": "blobs", "Model_path": "synthetic", "return_classes": True},
    headers=HEADERS,
)
report["classes"] = r.json()["classes"]

# 3. Upload the prediction config as a JSON file, read it back.
with open(os.path.join(work, "config.json"), "rb") as fh:
    r = requests.post(BASE_URL + "/configs", files={"file": fh}, headers=HEADERS)
r.raise_for_status()
report["config"] = requests.get(BASE_URL + "/configs", headers=HEADERS).json()["config"]

# 4. Convert a zip of images to base64 strings.
with open(os.path.join(work, "images.zip"), "rb") as fh:
    r = requests.post(BASE_URL + "/base64", files={"file": fh}, headers=HEADERS)
r.raise_for_status()
images = r.json()

# 5. Predict, asking for the output images, and save them.
r = requests.post(BASE_URL + "/predict", json={"images": images, "create_images": True}, headers=HEADERS)
r.raise_for_status()
report["results"] = []
for i, (result, image) in enumerate(r.json()["Responses"]):
    report["results"].append(result["results"])
    with open(os.path.join(work, f"output_{i}.png"), "wb") as fh:
        fh.write(base64.b64decode(image))

print(json.dumps(report))
