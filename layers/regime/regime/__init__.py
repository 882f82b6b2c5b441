"""The regime core: contracts, features, labels, the ONNX ensemble and its vote.

Pure computation. Nothing here talks to AWS or a broker; training imports scikit-learn lazily, so the
Lambda layer needs only numpy and onnxruntime.
"""
