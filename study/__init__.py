"""Where trials run: data, model, the Keras Tuner front with its Optuna back, and the CLIs."""
