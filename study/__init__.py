"""Where trials run: data, model, the Keras Tuner front with its Optuna back, and the CLIs."""

import os

# TensorFlow's C++ start-up notices (oneDNN, CUDA probing) would bury the progress lines of a
# study; a user who wants them sets the variable before starting Python.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
