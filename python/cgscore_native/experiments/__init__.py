"""The label-noise experiment harness: noise injection, baselines, detection metrics, the benchmark."""
