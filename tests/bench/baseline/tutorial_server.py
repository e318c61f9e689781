# The Python tutorial's model server, written from its description, for side-by-side benchmarks
# (tests/bench/server-bench.java starts it): a FastAPI app whose GET /predict sleeps 100 ms, or
# SLEEP_MS milliseconds, and returns a random prediction with the model's name.
# Run it by hand (Debian packages python3-fastapi python3-uvicorn):
#   SLEEP_MS=0 python3 -m uvicorn tutorial_server:app --app-dir tests/bench/baseline --host 127.0.0.1 --port 8001
import os
import random
import time

from fastapi import FastAPI

SLEEP_SECONDS = float(os.environ.get("SLEEP_MS", "100")) / 1000.0
app = FastAPI()


@app.get("/predict")
def predict():
    # a plain (sync) handler, as in the tutorial: FastAPI runs it on its thread pool
    if SLEEP_SECONDS > 0:
        time.sleep(SLEEP_SECONDS)
    return {"prediction": round(random.random(), 2), "model": "v1"}


@app.get("/health")
def health():
    return {"status": "ok"}
