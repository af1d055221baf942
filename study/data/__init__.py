"""Where data enters: image sets read into fixed uint8 splits in memory, and their pipelines.

Fashion-MNIST from its IDX files (`splits`, `fashion_mnist`), TFDS sets (`tfds_source`) and
folders of images (`folder_source`). May import `study.errors` and nothing else of `study`.
"""
