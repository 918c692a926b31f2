"""Partnership Assistant: cited answers over a library of partnership literature."""

import os

# Offline by construction: no hub downloads, no telemetry. Set before any HF/Chroma/Gradio import.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # OpenMP threads sleep instead of spinning while they wait: on a shared CPU, spinning made one
    # query embedding take ~1 s instead of ~50 ms (benchmarks/README.md).
    "OMP_WAIT_POLICY": "PASSIVE",
    # Gradio's queue keeps a record of the last N events and rebuilds a pandas table of them after
    # every event (for its monitoring page): at its default of 10,000, both grow through a long run.
    "GRADIO_ANALYTICS_MAX_EVENTS": "500",
}.items():
    os.environ.setdefault(_name, _value)
